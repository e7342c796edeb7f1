import { z } from 'zod';
import { deliveryModes, errorCodes } from '@lab/protocol';
import { chatResultSchema } from './chat-result.ts';

/**
 * The contract of `client experiment --json` (docs/experiment-result.md; the JSON Schema beside it is
 * generated from this with `npm run schema`). Strict objects: a field added to the report without being
 * added here fails the container test that validates real output against it. `version` changes when a
 * field changes meaning.
 */
const sha256 = z.string().regex(/^[0-9a-f]{64}$/);
const count = z.number().int().nonnegative();
const failure = z.strictObject({ error: z.strictObject({ code: z.enum([...errorCodes, 'UNEXPECTED']), message: z.string() }) });

const wire = z
  .strictObject({
    interface: z.string(),
    packets: count,
    wireBytes: count,
    payloadBytes: count,
    retransmittedBytes: count,
    headerBytesPerPacket: z.number().nonnegative(),
  })
  .nullable();

const tcpResult = z.strictObject({
  name: z.string(),
  bytes: count,
  sha256,
  uploadMs: z.number().nonnegative(),
  uploadMbitPerS: z.number().nonnegative(),
  stored: z.strictObject({ size: count, sha256 }),
  downloadMs: z.number().nonnegative(),
  downloadMbitPerS: z.number().nonnegative(),
  downloaded: z.strictObject({ size: count, sha256, declaredSha256: sha256 }),
  /** The downloaded bytes hash to the original's SHA-256, and the server stored exactly that. */
  identical: z.boolean(),
  /** The connection's own (ephemeral) port, which the kernel chose at connect: a packet capture finds the connection by it. */
  localPort: z.number().int().min(0).max(65535),
  /**
   * Segments this network namespace sent, and sent again, during the transfers (/proc/net/snmp): in
   * the lab's client container that is this connection alone. Null where the counters cannot be read.
   */
  segments: z.strictObject({ out: count, retransmitted: count }).nullable(),
  /** The kernel's view of the connection after the upload (ss -ti): smoothed RTT, and the MSS. */
  connection: z.strictObject({ rttMs: z.number().nonnegative(), rttVarMs: z.number().nonnegative(), rtoMs: z.number().nonnegative(), mss: count, bytesRetransmitted: count }).nullable(),
  /**
   * The connection's lowest RTT before any file moved (handshake and hello only; ss's minrtt, or its smoothed
   * RTT where ss has no minrtt): the path's, without the load's queues or a stall of the host's own.
   */
  idleRttMs: z.number().nonnegative().nullable(),
  /**
   * What this client sent on its lab interface during both transfers (file data up, ACKs down) against
   * the bytes it wrote to the socket: the headers per packet, measured. Null where it cannot be read.
   */
  wire,
});

const hostCounters = z.strictObject({ inDatagrams: z.number().int(), inErrors: z.number().int(), rcvbufErrors: z.number().int() }).nullable();

/** Per receiver; its `sent` counts the datagrams the sender's kernel accepted (sent minus send errors). */
const receiver = z.strictObject({
  receiver: z.number().int().positive(),
  listen: z.string(),
  sent: count,
  received: count,
  unique: count,
  lost: count,
  lossPercent: z.number().min(0).max(100),
  duplicates: count,
  outOfOrder: count,
  late: count,
  /** RFC 3550's interarrival jitter when the stream ended, as iperf3 reports it. */
  jitterMs: z.number().nonnegative(),
  /** That jitter over the stream, its value after each arrival: its median and how high it went (its 99th percentile; 10 µs bins). */
  jitterP50Ms: z.number().nonnegative(),
  jitterP99Ms: z.number().nonnegative(),
});

const udpResult = z.strictObject({
  relay: z.string(),
  datagramBytes: count,
  rate: z.number().positive(),
  modes: z.array(
    z.strictObject({
      mode: z.enum(deliveryModes),
      room: count,
      attempted: count,
      sendErrors: count,
      sendMs: z.number().nonnegative(),
      /**
       * How late the datagrams went out against an even pace (start + i / rate), in ms: quantiles. Models
       * that depend on when datagrams leave (reordering, a rate's queue) take the pace from here.
       */
      sendLateMs: z.strictObject({ min: z.number(), p10: z.number(), p50: z.number(), p90: z.number(), p99: z.number(), max: z.number() }),
      receivers: z.array(receiver),
      /** Changes of this host's UDP counters during the run: drops here are the host's, not the network's. */
      host: hostCounters,
      /** What the sender's interface sent while it sent the stream, against the datagrams' bytes: headers per packet, measured. */
      wire,
    }),
  ),
});

export const experimentReportSchema = z.strictObject({
  schema: z.literal('tcp-udp-lab/experiment'),
  version: z.literal(1),
  ok: z.boolean(),
  tcp: z.union([tcpResult, failure]),
  udp: z.union([udpResult, failure]),
  /** The same numbered lines through TCP chat and UDP chat (chat-result.ts); null: not asked for (`--chat-lines 0`). */
  chat: z.union([chatResultSchema, failure]).nullable(),
});

/** The JSON Schema (draft 2020-12) of the report, for readers outside TypeScript. */
export function experimentReportJsonSchema(): object {
  return { title: 'tcp-udp-lab experiment result, version 1', ...z.toJSONSchema(experimentReportSchema) };
}

/** The client's machine-readable result (`--json`); every type below is the schema's, so they cannot drift apart. */
export type ExperimentReport = z.infer<typeof experimentReportSchema>;
export type PartFailure = z.infer<typeof failure>['error'];
export type TcpExperimentResult = z.infer<typeof tcpResult>;
export type UdpExperimentResult = z.infer<typeof udpResult>;
export type UdpModeResult = UdpExperimentResult['modes'][number];
export type UdpReceiverResult = z.infer<typeof receiver>;
export type SendLateness = UdpModeResult['sendLateMs'];
export type WireFigures = NonNullable<z.infer<typeof wire>>;
