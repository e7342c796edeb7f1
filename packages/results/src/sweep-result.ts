import { z } from 'zod';
import { directions } from '@lab/impairment';
import { deliveryModes } from '@lab/protocol';
import { experimentReportSchema } from './experiment-report.ts';
import { packetCaptureSchema } from './packet-capture.ts';

/** Where a lab runs (lab/lab.ts has what each one is). */
export const labBackends = ['containers', 'namespaces', 'loopback', 'uml'] as const;
export type LabBackend = (typeof labBackends)[number];

/** The netem words a sweep can vary (lab/sweep-plan.ts turns `--sweep` into steps). */
export const sweepDimensions = ['loss', 'delay', 'duplicate', 'corrupt', 'reorder', 'rate'] as const;
export type SweepDimension = (typeof sweepDimensions)[number];

/**
 * The contract of a sweep's result (docs/sweep-result.md; the JSON Schema beside it is generated with
 * `npm run schema`): what the lab set up, and for each step what the kernel had installed, the client's
 * own report (the `tcp-udp-lab/experiment` document, unchanged), the server's retransmissions, and what
 * netem and the models expected. `version` changes when a field changes meaning.
 */
const count = z.number().int().nonnegative();
/** Null where a model has nothing to say (no loss: it predicts no limit; no RTT measured). */
const rate = z.number().nonnegative().nullable();
const band = z.tuple([z.number().nonnegative(), z.number().nonnegative()]);

/** A figure a correct lab shows: its expected value, and the values it falls in 95% and 99% of the time. */
const expected = z.strictObject({ mean: z.number().nonnegative(), band95: band, band99: band });

const tcpDirection = z.strictObject({
  /** What of the profile this direction's data segments meet on their way ("loss 10% delay 20ms"), null: nothing. */
  dataImpairment: z.string().nullable(),
  /** The same for the ACKs that come back. */
  ackImpairment: z.string().nullable(),
  /** Share of data segments of which no intact copy arrives (loss, corruption and duplication together, as netem does them). */
  dataLossPercent: z.number().min(0).max(100),
  ackLossPercent: z.number().min(0).max(100),
  measuredMbitPerS: z.number().nonnegative().nullable(),
  /** Mathis et al. 1997: Reno in steady congestion avoidance, no timeouts. */
  mathisMbitPerS: rate,
  /** RFC 5348 section 3.1 (Padhye et al. 1998), with the connection's own RTO. */
  rfc5348MbitPerS: rate,
  /** Under `rate`: the most payload the rate lets through (rate × MSS / (MSS + 66 bytes of headers)). */
  rateLimitMbitPerS: rate,
});

const receiverCheck = z.strictObject({
  receiver: z.number().int().positive(),
  sent: count,
  lost: count,
  /** The counts of lost datagrams that a correct lab shows 95% and 99% of the time at least. */
  lostBand95: band,
  lostBand99: band,
  /** Inside lostBand99: the band the table and the tests use, so that a sweep of many checks rarely cries wolf. */
  withinBand: z.boolean(),
  duplicates: count,
  duplicatesBand99: band,
  duplicatesWithinBand: z.boolean(),
});

const udpModeCheck = z.strictObject({
  mode: z.enum(deliveryModes),
  /** exact: from the per-datagram probabilities; simulated: runs of netem's algorithm (correlation, Gilbert-Elliott, rate, timing). */
  method: z.enum(['exact', 'simulated']),
  trials: count,
  /** Share of the datagrams one receiver should miss, from the whole profile and the points the path crosses. */
  expectedLossPercent: z.number().min(0).max(100),
  /** Extra copies per datagram sent, in percent. */
  expectedDuplicatePercent: z.number().nonnegative(),
  /** Expected reordered, late and jitter (ms) per receiver; null where the profile moves nothing in time (then 0 is expected). */
  outOfOrder: expected.nullable(),
  late: expected.nullable(),
  jitterMs: expected.nullable(),
  /** True when the stream's rate is above what this lab's own CPU keeps honest: its jitter and late are then not the network's. */
  timingDistortedByLab: z.boolean(),
  receivers: z.array(receiverCheck),
});

const step = z.strictObject({
  /** The swept value as given ("10%", "20ms", "10mbit") and as a number in the dimension's unit. */
  label: z.string(),
  value: z.number(),
  /** The whole profile applied to each impaired host, in tc-netem(8) words. */
  profile: z.string(),
  /** How the profile came about when it is not the fixed profile and the swept value side by side (two losses combined). */
  note: z.string().nullable(),
  /** What each host's kernel said was installed (tc qdisc show, or iptables -S), read back after applying. */
  installed: z.record(z.string(), z.string()),
  durationMs: z.number().nonnegative(),
  /** How long the receivers waited for stragglers after the stream: long enough for the profile's delays and queues. */
  drainMs: count,
  experiment: experimentReportSchema,
  /** The TCP server's retransmitted segments during the step (its /proc/net/snmp): the download's. */
  serverRetransmittedSegments: count.nullable(),
  /** The client's lab interface during the step, captured (pcapng), and its TCP connection's ladder. */
  capture: packetCaptureSchema,
  tcp: z.strictObject({
    upload: tcpDirection,
    download: tcpDirection,
    /** The delay the profile puts on one round trip (mean, ms): the kernel's RTT should be the link's own plus this. Null under `rate` (its queue adds its own) and `reorder` (a round trip is delayed or not). */
    addedRttMs: z.number().nonnegative().nullable(),
    /** The RTT expected (the link's own plus addedRttMs), and whether the kernel's before the transfer (idleRttMs) is within 20% or 2 ms of the delay on the path. */
    expectedRttMs: z.number().nonnegative().nullable(),
    rttWithinTolerance: z.boolean().nullable(),
  }),
  udp: z.array(udpModeCheck),
});

export const sweepResultSchema = z.strictObject({
  schema: z.literal('tcp-udp-lab/sweep'),
  version: z.literal(2),
  startedAt: z.string(),
  /** Which lab ran it, and what it could not do (`limits`) and so left out of the request (`skipped`). */
  lab: z.strictObject({
    backend: z.enum(labBackends),
    description: z.string(),
    limits: z.array(z.string()),
    skipped: z.array(z.string()),
    /** Datagrams per second above which this lab's own CPU, not the network, shapes UDP jitter and lateness; null: no such limit known. */
    honestUdpRate: z.number().positive().nullable(),
  }),
  /** What the TCP models were given: the link's own RTT (medians of the steps, less the profile's delay), RTO and MSS (ss -ti). */
  models: z.strictObject({ link: z.strictObject({ rttMs: z.number().nonnegative(), rtoMs: z.number().nonnegative(), mss: count }).nullable() }),
  /** Null where the lab cannot impair its network (loopback, without root): only the unimpaired step ran. */
  impairment: z
    .strictObject({
      backend: z.enum(['netem', 'iptables']),
      reason: z.string(),
      direction: z.enum(directions),
      hosts: z.array(z.string()),
      /** How many impaired points a datagram crosses from the sender through the relay to a receiver. */
      udpPathHops: count,
      /** Whether TCP was cut into one-segment packets, so that one drop is one segment (see README). */
      segmentSizedPackets: z.boolean(),
    })
    .nullable(),
  settings: z.strictObject({
    /** What was swept: one tc-netem word over values (`loss 0%,1%,5%`), its unit on the x axis. */
    sweep: z.strictObject({ dimension: z.enum(sweepDimensions), text: z.string(), title: z.string(), unit: z.string() }),
    /** What held at every step besides the swept word, in tc-netem words ("none"). */
    profile: z.string(),
    fileBytes: count,
    datagrams: count,
    datagramBytes: count,
    rate: z.number().positive(),
    receivers: count,
    modes: z.array(z.enum(deliveryModes)),
    tcpDeadlineMs: count,
  }),
  steps: z.array(step),
  /** Every step's TCP copy identical (or cut at its time limit) and its UDP streams measured. */
  ok: z.boolean(),
});

export type SweepResult = z.infer<typeof sweepResultSchema>;
export type SweepStep = z.infer<typeof step>;
export type TcpDirectionResult = z.infer<typeof tcpDirection>;
export type UdpModeCheck = z.infer<typeof udpModeCheck>;
export type ExpectedFigure = z.infer<typeof expected>;

export function sweepResultJsonSchema(): object {
  return { title: 'tcp-udp-lab sweep result, version 2', ...z.toJSONSchema(sweepResultSchema) };
}
