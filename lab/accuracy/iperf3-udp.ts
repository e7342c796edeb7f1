import { z } from 'zod';

/**
 * What iperf3 -u -J (3.12, Debian 12) says each end counted, read through a schema: the client's report
 * (`--get-server-output`) carries the server's own report (`-s -J`), whose stream is the receiving end's
 * count. (The client's `end.streams[].udp.out_of_order` is its own, the sender's: always 0.)
 *
 * How iperf3 counts (src/iperf_udp.c, iperf_udp_recv): a datagram numbered above the next one expected
 * adds the gap to the lost count; one numbered below it (late, or a second copy) is counted out of order
 * and takes one back from the lost count. So a duplicate is "out of order" to iperf3, and the lost count
 * is net of the datagrams that came late; datagrams after the last one heard are not counted at all
 * (`packets` is the highest number heard). Jitter is RFC 3550's, over every arrival.
 */
const received = z.object({
  packets: z.number().nonnegative(),
  lost_packets: z.number(),
  out_of_order: z.number().nonnegative(),
  jitter_ms: z.number().nonnegative(),
});

export const iperf3UdpReportSchema = z.object({
  end: z.object({ sum_sent: z.object({ packets: z.number().nonnegative() }) }),
  /** The server's own report: its stream's counts at the end, and its jitter each second. */
  server_output_json: z.object({
    end: z.object({ streams: z.array(z.object({ udp: received })).min(1) }),
    intervals: z.array(z.object({ sum: z.object({ jitter_ms: z.number().nonnegative() }) })),
  }),
});

export interface Iperf3UdpFigures {
  /** Datagrams the client sent. */
  sent: number;
  /** The highest number the server heard: what its counts are out of. */
  counted: number;
  /** iperf3's lost: gaps, less what came late or twice. */
  lost: number;
  /** iperf3's out of order: late arrivals and second copies together. */
  outOfOrder: number;
  jitterMs: number;
  /** The jitter most of the time, and how high it went: the median and the most of its values at the end of each second (the server's intervals). */
  jitterMedianMs: number;
  jitterMaxMs: number;
}

/** The figures of one iperf3 -u -J report, or the reason it cannot be read. */
export function iperf3UdpFigures(json: unknown): Iperf3UdpFigures | { problem: string } {
  // iperf3 says why it stopped in its report's `error` (seen here: "unable to read from stream socket:
  // Resource temporarily unavailable", its control connection under loss).
  const failed = z.object({ error: z.string() }).safeParse(json);
  if (failed.success) return { problem: `iperf3 stopped: ${failed.data.error}` };
  const parsed = iperf3UdpReportSchema.safeParse(json);
  if (!parsed.success) return { problem: `iperf3's report is not what iperf3 3.12 writes for UDP: ${parsed.error.issues[0]?.path.join('.')}: ${parsed.error.issues[0]?.message}` };
  const { end, server_output_json: server } = parsed.data;
  const stream = server.end.streams[0]!.udp;
  const figures = {
    sent: end.sum_sent.packets,
    counted: stream.packets,
    lost: stream.lost_packets,
    outOfOrder: stream.out_of_order,
    jitterMs: stream.jitter_ms,
    jitterMedianMs: median(server.intervals.map((interval) => interval.sum.jitter_ms)) ?? stream.jitter_ms,
    jitterMaxMs: Math.max(stream.jitter_ms, ...server.intervals.map((interval) => interval.sum.jitter_ms)),
  };
  // A count that is no count: iperf3 keeps some in unsigned integers, and one taken below zero wraps.
  for (const [name, value] of Object.entries({ sent: figures.sent, packets: figures.counted, lost_packets: figures.lost, out_of_order: figures.outOfOrder })) {
    if (!Number.isSafeInteger(value) || value < 0) return { problem: `iperf3 reported ${value} for ${name}: not a count (a counter of its own went below zero and wrapped)` };
  }
  return figures;
}

function median(values: number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}
