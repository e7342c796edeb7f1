import { z } from 'zod';

/**
 * The chat contrast of `client experiment` (part of its report, docs/experiment-result.md): the same
 * numbered lines, sent at the same moments through TCP chat (the server's rooms) and UDP chat (the
 * relay's), as one listener of each received them. TCP gives every line, once, in order, and late when it
 * had to wait for a resend; UDP gives what the network let through, as it came.
 */
const count = z.number().int().nonnegative();
const line = z.number().int().positive();

/** What an arrival was, by the line numbers alone (services/client/src/chat-sequencer.ts decides). */
export const chatArrivalKinds = ['in-order', 'reordered', 'duplicate'] as const;
export type ChatArrivalKind = (typeof chatArrivalKinds)[number];

const arrival = z.strictObject({
  line,
  /** When it arrived, ms after the first line was sent. */
  ms: z.number().nonnegative(),
  kind: z.enum(chatArrivalKinds),
});

const transport = {
  /** Every arrival at the listener, in the order they came. */
  arrivals: z.array(arrival).max(10_000),
  /** The lines that never came. */
  missing: z.array(line),
};

export const chatResultSchema = z.strictObject({
  lines: count,
  intervalMs: z.number().nonnegative(),
  /** When each line was sent, ms after the first (line n at index n - 1). */
  sentMs: z.array(z.number().nonnegative()),
  tcp: z.strictObject({ room: z.string(), ...transport }),
  udp: z.strictObject({ room: count, ...transport }),
});

export type ChatResult = z.infer<typeof chatResultSchema>;
export type ChatArrival = z.infer<typeof arrival>;

/** How long each arrival took: from when its line was sent to when it came, in ms. */
export function chatDelays(result: ChatResult, side: 'tcp' | 'udp'): number[] {
  return result[side].arrivals.map((arrival) => Math.max(0, arrival.ms - (result.sentMs[arrival.line - 1] ?? 0)));
}

/** One transport's chat in words: "20 of 20 lines, every one once and in order; slowest 212 ms after it was sent". */
export function chatWords(result: ChatResult, side: 'tcp' | 'udp'): string {
  const { arrivals, missing } = result[side];
  const reordered = arrivals.filter((arrival) => arrival.kind === 'reordered').length;
  const twice = arrivals.filter((arrival) => arrival.kind === 'duplicate').length;
  const got = result.lines - missing.length;
  const what = [
    missing.length > 0 ? `${missing.length} never came (${missing.length <= 6 ? missing.join(', ') : `${missing.slice(0, 6).join(', ')}, …`})` : null,
    reordered > 0 ? `${reordered} out of order` : null,
    twice > 0 ? `${twice} came twice` : null,
  ].filter(Boolean);
  const slowest = Math.max(0, ...chatDelays(result, side));
  return `${got} of ${result.lines} lines, ${what.length === 0 ? 'every one once and in order' : what.join(', ')}${arrivals.length > 0 ? `; slowest ${slowest.toFixed(0)} ms after it was sent` : ''}`;
}
