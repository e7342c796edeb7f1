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

/**
 * Whose a figure is (lab/figure-verdict.ts): `inside` its 99% band (the network's part, from netem's model
 * of the stream as asked for, plus the lab's own part, from the calibration), `outside` it, or `lab`: the
 * lab's own part is larger than the network's, so the figure is the lab's and not the network's.
 */
export const verdicts = ['inside', 'outside', 'lab'] as const;
const verdict = z.enum(verdicts);

/** The figures of one UDP receiver that have an expectation, by name. */
const udpFigures = <T extends z.ZodType>(value: T) => z.strictObject({ lost: value, duplicates: value, outOfOrder: value, late: value, jitterMs: value });

/** What the sender's interface saw of one stream's departures (the step's capture): gaps between data datagrams. */
const pacing = z.strictObject({
  mode: z.enum(deliveryModes),
  datagrams: count,
  nominalMs: z.number().nonnegative(),
  /** Quantiles of the gaps, ms. */
  p1: z.number().nonnegative(),
  p50: z.number().nonnegative(),
  p99: z.number().nonnegative(),
  /** Gaps under half the nominal one: datagrams that left as a burst. */
  bursts: count,
});

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
  /** Each figure's verdict, against the mode's `expected` (its 99% band) and the lab's own part (`labOwn`). */
  verdicts: z.strictObject({ lost: verdict, duplicates: verdict, outOfOrder: verdict, late: verdict, jitter: verdict }),
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
  /**
   * The network's part: reordered, late and jitter (ms) per receiver that netem's model expects of the
   * stream as asked for (every datagram at its nominal time); null where the profile moves nothing in
   * time (then the network adds none).
   */
  outOfOrder: expected.nullable(),
  late: expected.nullable(),
  jitterMs: expected.nullable(),
  /**
   * The lab's own part of each figure, as its calibration measured it (the most any receiver of this mode
   * showed, with nothing impaired): its jitter most of the time (`jitterMs`, the median of the running
   * value) and how high it went (`jitterHighMs`, its 99th percentile), and for reordered also the bursts
   * its sender let out at this step (`pacing`), where the profile moves datagrams in time; null where the
   * sweep had no calibration.
   */
  labOwn: udpFigures(z.number().nonnegative()).extend({ jitterHighMs: z.number().nonnegative() }).nullable(),
  /** What each receiver's figures are judged against: the network's part and the lab's own together. */
  expected: udpFigures(expected),
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
  /** How evenly each mode's stream left, from the capture's timestamps (the sender's own timing, apart from the network's); empty without a capture. */
  pacing: z.array(pacing),
  tcp: z.strictObject({
    upload: tcpDirection,
    download: tcpDirection,
    /** The delay the profile puts on one round trip (mean, ms): the kernel's RTT should be the link's own plus this. Null under `rate` (its queue adds its own) and `reorder` (a round trip is delayed or not). */
    addedRttMs: z.number().nonnegative().nullable(),
    /** The RTT expected (the link's own plus addedRttMs), and whether the kernel's before the transfer (idleRttMs) is within 20% or 2 ms of the delay on the path. */
    expectedRttMs: z.number().nonnegative().nullable(),
    rttWithinTolerance: z.boolean().nullable(),
    /**
     * The verdicts of the TCP figures that have an expectation: the RTT (within its tolerance, above), and
     * under a `rate` the goodput of the direction whose data meets it (the rate's limit, or the lab's
     * own ceiling where the calibration carried less); null: no expectation.
     */
    verdicts: z.strictObject({ rtt: verdict.nullable(), uploadGoodput: verdict.nullable(), downloadGoodput: verdict.nullable() }),
  }),
  udp: z.array(udpModeCheck),
});

/**
 * The lab measuring itself before the first step: the same file and stream, in the same lab, with nothing
 * impaired (no chat part). Its figures are the lab's own part of every step's (lab/figure-verdict.ts).
 */
const calibration = z.strictObject({
  durationMs: z.number().nonnegative(),
  experiment: experimentReportSchema,
  capture: packetCaptureSchema,
  pacing: z.array(pacing),
});

export const sweepResultSchema = z.strictObject({
  schema: z.literal('tcp-udp-lab/sweep'),
  version: z.literal(3),
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
  /** Null where the lab cannot impair its network (then every step is unimpaired, and itself the lab's own). */
  calibration: calibration.nullable(),
  steps: z.array(step),
  /** Every figure outside its 99% band, in words ("step 3 (loss 10%): unicast receiver 2: lost 130, band 76-125"). */
  outside: z.array(z.string()),
  /** Every step's TCP copy identical (or cut at its time limit) and its UDP streams measured. */
  ok: z.boolean(),
});

export type SweepResult = z.infer<typeof sweepResultSchema>;
export type SweepStep = z.infer<typeof step>;
export type TcpDirectionResult = z.infer<typeof tcpDirection>;
export type UdpModeCheck = z.infer<typeof udpModeCheck>;
export type ExpectedFigure = z.infer<typeof expected>;
export type Verdict = z.infer<typeof verdict>;
export type StreamPacing = z.infer<typeof pacing>;
export type SweepCalibration = z.infer<typeof calibration>;

export function sweepResultJsonSchema(): object {
  return { title: 'tcp-udp-lab sweep result, version 3', ...z.toJSONSchema(sweepResultSchema) };
}
