import {
  effectiveProfile,
  expectUdp,
  formatProfile,
  movesInTime,
  pointRates,
  type Direction,
  type ImpairmentProfile,
  type UdpExpectation,
} from '@lab/impairment';
import type { DeliveryMode } from '@lab/protocol';
import type { ExperimentReport, StreamPacing, SweepStep, TcpDirectionResult, UdpModeCheck } from '@lab/results';
import { goodputVerdict, verdictOf, withOwnCount, withOwnJitter } from './figure-verdict.ts';
import { mathisBitsPerSecond, rfc5348BitsPerSecond } from './tcp-models.ts';

/**
 * What netem and the models say about one step, next to what the client measured. Pure: the profile,
 * the path and the numbers in; expectations and checks out.
 *
 * Where each packet meets the profile (the TCP server and the relay are impaired, the client never):
 *   direction in:   into the servers: the upload's data and the download's ACKs, datagrams into the relay;
 *   direction out:  out of them: the download's data and the upload's ACKs, the relay's copies out;
 *   direction both: all of these, each point on its own.
 */
export interface StepContext {
  /** The whole profile of the step, as applied (null: the lab could not impair). */
  profile: ImpairmentProfile | null;
  direction: Direction;
  /** The link's own figures: one RTT, RTO and MSS for the whole sweep (see linkFigures). */
  link: LinkFigures | null;
  datagrams: number;
  datagramBytes: number;
  rate: number;
  receivers: number;
  drainMs: number;
  lateMs: number;
  /** Datagrams per second above which the lab's own CPU distorts timing (null: none known). */
  honestUdpRate: number | null;
  /** The lab's own part of each figure, from the sweep's calibration (labOwnFrom); null: no calibration. */
  labOwn: LabOwn | null;
  /** How evenly each mode's stream left at this step, from its capture (empty: not captured). */
  pacing?: readonly StreamPacing[];
}

/** The lab's own figures, measured with nothing impaired: per mode the most any receiver showed, and TCP's goodput. */
export interface LabOwn {
  udp: Partial<Record<DeliveryMode, NonNullable<UdpModeCheck['labOwn']>>>;
  tcp: { uploadMbitPerS: number; downloadMbitPerS: number } | null;
}

/** What the calibration's run says of the lab itself. */
export function labOwnFrom(report: ExperimentReport): LabOwn {
  const udp: LabOwn['udp'] = {};
  if (!('error' in report.udp)) {
    for (const mode of report.udp.modes) {
      const most = (pick: (r: (typeof mode.receivers)[number]) => number) => Math.max(0, ...mode.receivers.map(pick));
      // Jitter: what it was most of the time and how high it went over the calibration's stream, not
      // where it happened to end: a stall of the lab's own near a step's end is as likely as anywhere.
      udp[mode.mode] = {
        lost: most((r) => r.lost),
        duplicates: most((r) => r.duplicates),
        outOfOrder: most((r) => r.outOfOrder),
        late: most((r) => r.late),
        jitterMs: most((r) => r.jitterP50Ms),
        jitterHighMs: most((r) => r.jitterP99Ms),
      };
    }
  }
  const tcp = 'error' in report.tcp ? null : { uploadMbitPerS: report.tcp.uploadMbitPerS, downloadMbitPerS: report.tcp.downloadMbitPerS };
  return { udp, tcp };
}

export interface LinkFigures {
  rttMs: number;
  rtoMs: number;
  mss: number;
}

/** TCP's headers in a segment on the wire: Ethernet 14, IPv4 20, TCP 20 + 12 of timestamps. */
const TCP_FRAME_OVERHEAD = 66;
/**
 * The bytes of a full TCP data segment netem can corrupt: all of them. TCP sends a clone of the segment
 * it keeps for retransmission, and netem's skb_unshare copies a clone whole into one linear buffer
 * (skb_copy) before it flips a bit, so the payload can be hit. An ACK is its 66 bytes of headers.
 */
const TCP_SEGMENT_BYTES = 1448 + TCP_FRAME_OVERHEAD;
const TCP_ACK_BYTES = TCP_FRAME_OVERHEAD;

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
};

/**
 * The mean delay a round trip of the TCP connection gets from the profile. Null where one round trip says
 * nothing of it: under rate (its queue adds its own) and reorder (a segment is delayed, or sent at once).
 */
export function addedRttMs(profile: ImpairmentProfile | null, direction: Direction): number | null {
  if (!profile) return 0;
  const effective = effectiveProfile(profile);
  if (effective.rate || effective.reorder) return null;
  let added = 0;
  if (direction !== 'out') added += pointRates(effective, TCP_ACK_BYTES, 'ingress').delayMs;
  if (direction !== 'in') added += pointRates(effective, TCP_ACK_BYTES, 'egress').delayMs;
  return added;
}

/**
 * How far a round trip's delay may stray from its mean under jitter: the idle RTT is one or two round
 * trips, each a draw. Uniform jitter reaches ±jitter at each point; a table's, about two of its standard
 * deviations (the jitter) in 95 cases of 100.
 */
function jitterReach(profile: ImpairmentProfile, direction: Direction): number {
  const jitter = profile.delay?.jitterMs ?? 0;
  return jitter * (profile.delay?.distribution ? 2 : 1) * (direction === 'both' ? 2 : 1);
}

/**
 * One RTT, RTO and MSS for the link: medians over the steps of what the kernel reported for each step's
 * connection (its RTT before the transfer), with the delay the profile added taken off the RTT (and the
 * RTO). Sub-millisecond RTTs jump
 * from step to step (0.1 to 1.3 ms on a veth); a model fed each step's own would jump with them.
 */
export function linkFigures(steps: { experiment: ExperimentReport; addedRttMs: number | null }[]): LinkFigures | null {
  const own = steps.flatMap(({ experiment, addedRttMs }) => {
    const { tcp } = experiment;
    if ('error' in tcp || !tcp.connection || addedRttMs === null) return [];
    // The RTT before the transfer is the path's; the one after it holds the queues the transfer built.
    const rtt = tcp.idleRttMs ?? tcp.connection.rttMs;
    return [{ rtt: Math.max(0, rtt - addedRttMs), rto: Math.max(0, tcp.connection.rtoMs - addedRttMs), mss: tcp.connection.mss }];
  });
  if (own.length === 0) return null;
  return { rttMs: median(own.map((c) => c.rtt)), rtoMs: median(own.map((c) => c.rto)), mss: median(own.map((c) => c.mss)) };
}

const finiteMbit = (bitsPerSecond: number) => (Number.isFinite(bitsPerSecond) ? bitsPerSecond / 1e6 : null);

/** The TCP figures of one direction, whose data meets `dataPoint` and whose ACKs meet `ackPoint` (null: not impaired). */
function tcpDirection(
  profile: ImpairmentProfile,
  dataPoint: 'ingress' | 'egress' | null,
  ackPoint: 'ingress' | 'egress' | null,
  rtt: { link: LinkFigures | null; addedMs: number | null },
  measured: number | null,
): TcpDirectionResult {
  const words = formatProfile(profile);
  const dataLoss = dataPoint ? pointRates(profile, TCP_SEGMENT_BYTES, dataPoint).loss : 0;
  const ackLoss = ackPoint ? pointRates(profile, TCP_ACK_BYTES, ackPoint).loss : 0;
  const { link } = rtt;
  const rttMs = link ? link.rttMs + (rtt.addedMs ?? 0) : 0;
  const model = (f: (mss: number, rttSeconds: number, rtoSeconds: number) => number) =>
    link && rttMs > 0 && rtt.addedMs !== null ? finiteMbit(f(link.mss, rttMs / 1000, (link.rtoMs + (rtt.addedMs ?? 0)) / 1000)) : null;
  const mss = link?.mss ?? 1448;
  return {
    dataImpairment: dataPoint && words !== 'none' ? words : null,
    ackImpairment: ackPoint && words !== 'none' ? words : null,
    dataLossPercent: dataLoss * 100,
    ackLossPercent: ackLoss * 100,
    measuredMbitPerS: measured,
    mathisMbitPerS: model((m, r) => mathisBitsPerSecond(m, r, dataLoss)),
    rfc5348MbitPerS: model((m, r, rto) => rfc5348BitsPerSecond(m, r, dataLoss, rto)),
    rateLimitMbitPerS: dataPoint && profile.rate ? (profile.rate.bitsPerSecond * mss) / (mss + TCP_FRAME_OVERHEAD) / 1e6 : null,
  };
}

/**
 * Expectations of one UDP mode, cached: with the same inputs, the same (seeded) answer. netem's model is
 * given the stream the user asked for, every datagram at its nominal time: what the network does to that
 * stream. How late the lab's sender really was is its own part, measured apart (the step's pacing, from
 * the capture; the calibration).
 */
const udpCache = new Map<string, UdpExpectation>();
function udpExpectation(profile: ImpairmentProfile, context: StepContext, mode: DeliveryMode, sent: number): UdpExpectation {
  const key = JSON.stringify([profile, context.direction, mode, context.receivers, sent, context.rate, context.datagramBytes, context.drainMs, context.lateMs]);
  let expectation = udpCache.get(key);
  if (!expectation) {
    expectation = expectUdp({ profile, direction: context.direction, mode, receivers: context.receivers, datagrams: sent, rate: context.rate, datagramBytes: context.datagramBytes, drainMs: context.drainMs, lateMs: context.lateMs });
    udpCache.set(key, expectation);
  }
  return expectation;
}

const within = (value: number, [low, high]: [number, number]) => value >= low && value <= high;

/** The UDP part of a step: what netem expects of each mode, the lab's own part, and each figure's verdict. Needs no other step. */
export function analyseUdp(report: ExperimentReport, context: StepContext): UdpModeCheck[] {
  if ('error' in report.udp) return [];
  const profile = context.profile ? effectiveProfile(context.profile) : {};
  const impaired = context.profile !== null;
  return report.udp.modes.map((mode): UdpModeCheck => {
    const sent = mode.receivers[0]?.sent ?? 0;
    const expectation = impaired ? udpExpectation(profile, context, mode.mode, sent) : null;
    const lostBand = (key: 'band95' | 'band99'): [number, number] => expectation?.lost[key] ?? [0, 0];
    const duplicatesBand = expectation?.duplicates.band99 ?? [0, 0];
    // The lab's own part: what its calibration showed, and under a profile that moves datagrams in time
    // the bursts its sender let out at this step (a gap under half the nominal one, in the capture): netem
    // can put each such pair out of order, which it would not do to the even stream its model is given.
    const calibrated = context.labOwn?.udp[mode.mode] ?? null;
    const bursts = movesInTime(profile) ? (context.pacing?.find((p) => p.mode === mode.mode)?.bursts ?? 0) : 0;
    const own = calibrated ? { ...calibrated, outOfOrder: calibrated.outOfOrder + bursts } : null;
    const distorted = context.honestUdpRate !== null && context.rate > context.honestUdpRate;
    const network = {
      lost: expectation?.lost ?? null,
      duplicates: expectation?.duplicates ?? null,
      outOfOrder: expectation?.outOfOrder ?? null,
      late: expectation?.late ?? null,
      jitterMs: expectation?.jitterMs ?? null,
    };
    const expected = {
      lost: withOwnCount(network.lost, own?.lost ?? null),
      duplicates: withOwnCount(network.duplicates, own?.duplicates ?? null),
      outOfOrder: withOwnCount(network.outOfOrder, own?.outOfOrder ?? null),
      late: withOwnCount(network.late, own?.late ?? null),
      jitterMs: withOwnJitter(network.jitterMs, own ? { typical: own.jitterMs, high: own.jitterHighMs } : null),
    };
    // Loss and duplication: where nothing of the profile makes them, netem expects exactly none (a
    // zero band), and what shows is outside it, not the lab's by definition: lost datagrams are counted,
    // never guessed. Whether timing figures are the lab's own is the calibration's to say, measured at
    // this rate in this lab (`distorted` only repeats what the lab says of itself in advance).
    const count = (measured: number, key: 'lost' | 'duplicates' | 'outOfOrder' | 'late') =>
      verdictOf(measured, network[key] ?? (key === 'lost' || key === 'duplicates' ? { mean: 0, band95: [0, 0], band99: [0, 0] } : null), own?.[key] ?? null, expected[key]);
    return {
      mode: mode.mode,
      method: expectation?.method ?? 'exact',
      trials: expectation?.trials ?? 0,
      expectedLossPercent: expectation && sent > 0 ? (100 * expectation.lost.mean) / sent : 0,
      expectedDuplicatePercent: expectation && sent > 0 ? (100 * expectation.duplicates.mean) / sent : 0,
      outOfOrder: network.outOfOrder,
      late: network.late,
      jitterMs: network.jitterMs,
      labOwn: own,
      expected,
      timingDistortedByLab: distorted,
      receivers: mode.receivers.map((r) => ({
        receiver: r.receiver,
        sent: r.sent,
        lost: r.lost,
        lostBand95: lostBand('band95'),
        lostBand99: lostBand('band99'),
        withinBand: within(r.lost, lostBand('band99')),
        duplicates: r.duplicates,
        duplicatesBand99: duplicatesBand,
        duplicatesWithinBand: within(r.duplicates, duplicatesBand),
        verdicts: {
          lost: count(r.lost, 'lost'),
          duplicates: count(r.duplicates, 'duplicates'),
          outOfOrder: count(r.outOfOrder, 'outOfOrder'),
          late: count(r.late, 'late'),
          jitter: verdictOf(r.jitterMs, network.jitterMs, own?.jitterMs ?? null, expected.jitterMs, 'jitter'),
        },
      })),
    };
  });
}

/** The TCP part of a step: the models, the RTT the profile adds, and the verdicts of what has an expectation. Needs the link's figures, from every step. */
export function analyseTcp(report: ExperimentReport, context: StepContext): SweepStep['tcp'] {
  const profile = context.profile ? effectiveProfile(context.profile) : {};
  const impaired = context.profile !== null;
  const into = impaired && context.direction !== 'out' ? 'ingress' : null;
  const outOf = impaired && context.direction !== 'in' ? 'egress' : null;
  const tcp = 'error' in report.tcp ? null : report.tcp;
  const added = impaired ? addedRttMs(profile, context.direction) : 0;
  const rtt = { link: context.link, addedMs: added };
  const expectedRtt = context.link && added !== null ? context.link.rttMs + added : null;
  const measuredRtt = tcp?.idleRttMs ?? tcp?.connection?.rttMs ?? null;
  // The upload's data goes into the TCP server, its ACKs out; the download the other way round.
  const upload = tcpDirection(profile, into, outOf, rtt, tcp ? tcp.uploadMbitPerS : null);
  const download = tcpDirection(profile, outOf, into, rtt, tcp ? tcp.downloadMbitPerS : null);
  // Against the delay on the path alone: the link's own RTT comes from these same steps, and a check
  // against it could not fail (a sweep of one step would always pass).
  const rttWithinTolerance = added !== null && measuredRtt !== null ? Math.abs(measuredRtt - added) <= Math.max(2, 0.2 * added) + jitterReach(profile, context.direction) : null;
  const ceiling = context.labOwn?.tcp ?? null;
  return {
    upload,
    download,
    addedRttMs: added,
    expectedRttMs: expectedRtt,
    rttWithinTolerance,
    verdicts: {
      rtt: rttWithinTolerance === null ? null : rttWithinTolerance ? 'inside' : 'outside',
      uploadGoodput: goodputVerdict(upload.measuredMbitPerS, upload.rateLimitMbitPerS, ceiling?.uploadMbitPerS ?? null),
      downloadGoodput: goodputVerdict(download.measuredMbitPerS, download.rateLimitMbitPerS, ceiling?.downloadMbitPerS ?? null),
    },
  };
}

export function analyseStep(report: ExperimentReport, context: StepContext): Pick<SweepStep, 'tcp' | 'udp'> {
  return { tcp: analyseTcp(report, context), udp: analyseUdp(report, context) };
}

/**
 * A step worked when TCP gave back every byte (or was cut at its time limit, which is a finding at high
 * loss, not a fault) and UDP was measured. A receiver outside its 99% band is reported, not failed: a
 * sweep has dozens of receivers, and a correct lab puts one in a hundred outside.
 */
export function stepOk(step: Pick<SweepStep, 'experiment'>): boolean {
  const { tcp, udp } = step.experiment;
  const tcpOk = 'error' in tcp ? tcp.error.code === 'LAB_ERR_DEADLINE' : tcp.identical;
  return tcpOk && !('error' in udp);
}

/**
 * How long receivers wait after the stream for what the profile only delays: the delay and the jitter's
 * reach on each point of the path, a full rate queue's worth of time, and a second more; at most 30 s
 * (the model counts what comes later as lost, as the receivers do).
 */
export function drainFor(profile: ImpairmentProfile | null, direction: Direction, datagramBytes: number): number {
  if (!profile) return 1000;
  const points = direction === 'both' ? 2 : 1;
  const { delay, rate } = effectiveProfile(profile);
  const reach = delay ? delay.ms + (delay.jitterMs ?? 0) * (delay.distribution ? 4 : 1) : 0;
  // A netem queue holds at most 1000 packets (tc's default limit).
  const queue = rate ? (1000 * (datagramBytes + 42) * 8 * 1000) / rate.bitsPerSecond : 0;
  return Math.min(30_000, Math.ceil(1000 + points * (reach + queue)));
}
