import { z } from 'zod';
import { deliveryModes } from '@lab/protocol';
import { chatArrivalKinds } from './chat-result.ts';

const count = z.number().int().nonnegative();

/** What became of one arrival, in stream-stats.ts's words (a lost datagram has no arrival: it is a gap). */
export const arrivalKinds = ['received', 'duplicate', 'reordered', 'late'] as const;
export type ArrivalKind = (typeof arrivalKinds)[number];

/**
 * What `client experiment --live-ms N` tells while it runs, every N ms, one line each on stderr after
 * LIVE_SAMPLE_PREFIX: the TCP connection as the kernel sees it, the UDP stream as each receiver gets
 * it, and the chat lines as each listener gets them. The lab reads them back through this schema and passes them to the live page.
 */
export const liveSampleSchema = z.discriminatedUnion('kind', [
  /** The TCP connection during the upload or the download (ss -ti: TCP_INFO), `tMs` after the phase began. */
  z.strictObject({
    kind: z.literal('tcp'),
    phase: z.enum(['upload', 'download']),
    tMs: z.number().nonnegative(),
    bytes: count,
    /** Of this phase's file: the bytes the server acknowledged (upload) or this client received (download). */
    done: count,
    cwnd: count.nullable(),
    rttMs: z.number().nonnegative().nullable(),
    retransmittedSegments: count,
  }),
  /** Arrivals at one receiver of one mode since the last sample: [sequence number, what it was]. */
  z.strictObject({
    kind: z.literal('udp'),
    mode: z.enum(deliveryModes),
    receiver: z.number().int().positive(),
    of: count,
    arrivals: z.array(z.tuple([count, z.enum(arrivalKinds)])).max(100_000),
  }),
  /** One line of the chat contrast arriving at the TCP or the UDP listener, `ms` after the first line was sent. */
  z.strictObject({
    kind: z.literal('chat'),
    transport: z.enum(['tcp', 'udp']),
    of: count,
    line: z.number().int().positive(),
    ms: z.number().nonnegative(),
    arrival: z.enum(chatArrivalKinds),
  }),
]);

export type LiveSample = z.infer<typeof liveSampleSchema>;

export const LIVE_SAMPLE_PREFIX = 'sample: ';
