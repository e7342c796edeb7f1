import { z } from 'zod';

/**
 * What iperf3 -u -J (3.12, Debian 12) says the receiving end counted, read through a schema: the client's
 * report carries the server's figures after the test (end.sum_received, end.streams[0].udp).
 *
 * How iperf3 counts (src/iperf_udp.c, iperf_udp_recv): a datagram numbered above the next one expected
 * adds the gap to the lost count; one numbered below it (late, or a second copy) is counted out of order
 * and takes one back from the lost count. So a duplicate is "out of order" to iperf3, and the lost count
 * is net of the datagrams that came late; datagrams after the last one heard are not counted at all
 * (`packets` is the highest number heard). Jitter is RFC 3550's, over every arrival.
 */
const udpSum = z.object({ packets: z.number().int().nonnegative(), lost_packets: z.number().int().nonnegative(), jitter_ms: z.number().nonnegative() });

export const iperf3UdpReportSchema = z.object({
  end: z.object({
    sum_sent: z.object({ packets: z.number().int().nonnegative() }),
    sum_received: udpSum,
    streams: z.array(z.object({ udp: z.object({ out_of_order: z.number().int().nonnegative() }) })).min(1),
  }),
  /** The server's own report (`-s -J`, asked for with `--get-server-output`): its jitter each second. */
  server_output_json: z.object({ intervals: z.array(z.object({ sum: z.object({ jitter_ms: z.number().nonnegative() }) })) }),
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
  /** How high the jitter went: the most of its values at the end of each second (the server's intervals). */
  jitterMaxMs: number;
}

/** The figures of one iperf3 -u -J report, or the reason it cannot be read. */
export function iperf3UdpFigures(json: unknown): Iperf3UdpFigures | { problem: string } {
  const parsed = iperf3UdpReportSchema.safeParse(json);
  if (!parsed.success) return { problem: `iperf3's report is not what iperf3 3.12 writes for UDP: ${parsed.error.issues[0]?.path.join('.')}: ${parsed.error.issues[0]?.message}` };
  const { end, server_output_json: server } = parsed.data;
  return {
    sent: end.sum_sent.packets,
    counted: end.sum_received.packets,
    lost: end.sum_received.lost_packets,
    outOfOrder: end.streams[0]!.udp.out_of_order,
    jitterMs: end.sum_received.jitter_ms,
    jitterMaxMs: Math.max(end.sum_received.jitter_ms, ...server.intervals.map((interval) => interval.sum.jitter_ms)),
  };
}
