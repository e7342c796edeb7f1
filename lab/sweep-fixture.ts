// A sweep result made by hand, for the unit tests of the table, the chart and the analysis.
import { effectiveProfile, formatProfile, parseProfile, type Direction, type ImpairmentProfile } from '@lab/impairment';
import { analyseStep, type LinkFigures, type StepContext } from './step-analysis.ts';
import type { ExperimentReport, SweepResult, SweepStep } from '@lab/results';

const sha = 'ab'.repeat(32);
export const FIXTURE_LINK = { rttMs: 0.9, rtoMs: 204, mss: 1448 };

/** The client's report at one loss: TCP at `uploadMbit` (or cut at the deadline), UDP losing `lostOf1000` per receiver. */
export function experimentAt(uploadMbit: number | 'cut', lostOf1000: number): ExperimentReport {
  const bytes = 1024 * 1024;
  const tcp: ExperimentReport['tcp'] =
    uploadMbit === 'cut'
      ? { error: { code: 'LAB_ERR_DEADLINE', message: 'the upload did not complete within 60 s (the time limit of the TCP part)' } }
      : {
          name: 'experiment.bin',
          bytes,
          sha256: sha,
          uploadMs: (bytes * 8) / (uploadMbit * 1000),
          uploadMbitPerS: uploadMbit,
          stored: { size: bytes, sha256: sha },
          downloadMs: 20,
          downloadMbitPerS: 419.4,
          downloaded: { size: bytes, sha256: sha, declaredSha256: sha },
          identical: true,
          segments: { out: 800, retransmitted: Math.round(uploadMbit < 100 ? 200 : 0) },
          connection: { rttMs: 0.9, rttVarMs: 0.1, rtoMs: 204, mss: 1448, bytesRetransmitted: 0 },
          idleRttMs: 0.9,
          wire: { interface: 'eth0', packets: 1000, wireBytes: 1_114_576, payloadBytes: 1_048_576, retransmittedBytes: 0, headerBytesPerPacket: 66 },
        };
  const receiver = (n: number) => ({
    receiver: n,
    listen: `172.18.0.4:4000${n}`,
    sent: 1000,
    received: 1000 - lostOf1000,
    unique: 1000 - lostOf1000,
    lost: lostOf1000,
    lossPercent: lostOf1000 / 10,
    duplicates: 0,
    outOfOrder: 0,
    late: 0,
    jitterMs: 0.05,
  });
  return {
    schema: 'tcp-udp-lab/experiment',
    version: 1,
    ok: uploadMbit !== 'cut',
    tcp,
    udp: {
      relay: 'udp-relay:9001',
      datagramBytes: 512,
      rate: 2000,
      modes: (['unicast', 'multicast'] as const).map((mode, i) => ({
        mode,
        room: i + 1,
        attempted: 1000,
        sendErrors: 0,
        sendMs: 500,
        sendLateMs: { min: 0, p10: 0.01, p50: 0.05, p90: 0.2, p99: 0.8, max: 1.5 },
        receivers: [receiver(1), receiver(2)],
        host: { inDatagrams: 4000, inErrors: 0, rcvbufErrors: 0 },
        wire: { interface: 'eth0', packets: 1003, wireBytes: 554_162, payloadBytes: 512_036, retransmittedBytes: 0, headerBytesPerPacket: 42 },
      })),
    },
  };
}

/** What analyseStep is told of the fixture's lab: a loss step into the servers, the client's defaults. */
export function contextAt(profile: ImpairmentProfile | null, direction: Direction = 'in', link: LinkFigures | null = FIXTURE_LINK): StepContext {
  return { profile, direction, link, datagrams: 1000, datagramBytes: 512, rate: 2000, receivers: 2, drainMs: 1000, lateMs: 50, honestUdpRate: null };
}

export function stepAt(lossPercent: number, experiment: ExperimentReport): SweepStep {
  const profile = parseProfile(`loss ${lossPercent}%`);
  return {
    label: `${lossPercent}%`,
    value: lossPercent,
    profile: formatProfile(effectiveProfile(profile)),
    note: null,
    installed: { 'tcp-server': '-A LAB-IMPAIR …', 'udp-relay': '-A LAB-IMPAIR …' },
    durationMs: 3000,
    drainMs: 1000,
    experiment,
    serverRetransmittedSegments: 0,
    ...analyseStep(experiment, contextAt(profile)),
  };
}

export function sweepFixture(): SweepResult {
  const steps = [stepAt(0, experimentAt(300, 0)), stepAt(10, experimentAt(7.5, 100)), stepAt(30, experimentAt('cut', 300))];
  return {
    schema: 'tcp-udp-lab/sweep',
    version: 2,
    startedAt: '2026-11-25T18:00:00.000Z',
    lab: { backend: 'containers', description: 'Docker containers on a test network', limits: [], skipped: [], honestUdpRate: null },
    models: { link: FIXTURE_LINK },
    impairment: { backend: 'iptables', reason: 'no netem in this kernel', direction: 'in', hosts: ['tcp-server', 'udp-relay'], udpPathHops: 1, segmentSizedPackets: true },
    settings: { sweep: { dimension: 'loss', text: 'loss 0%,10%,30%', title: 'loss per impaired point', unit: '%' }, profile: 'none', fileBytes: 1024 * 1024, datagrams: 1000, datagramBytes: 512, rate: 2000, receivers: 2, modes: ['unicast', 'multicast'], tcpDeadlineMs: 60_000 },
    steps,
    ok: true,
  };
}

/** A delay sweep (0 and 20 ms with jitter) over the fixture's lab: RTTs, reordering, and the timing expectations. */
export function delaySweepFixture(): SweepResult {
  const base = sweepFixture();
  const steps = [0, 20].map((ms): SweepStep => {
    const profile = parseProfile(ms === 0 ? 'delay 0ms' : `delay ${ms}ms 5ms`);
    const experiment = experimentAt(300, 0);
    if (!('error' in experiment.tcp)) experiment.tcp.idleRttMs = 0.9 + ms;
    if (!('error' in experiment.udp)) for (const mode of experiment.udp.modes) for (const r of mode.receivers) r.outOfOrder = ms === 0 ? 0 : 30;
    return {
      label: ms === 0 ? '0ms' : `${ms}ms 5ms`,
      value: ms,
      profile: formatProfile(effectiveProfile(profile)),
      note: null,
      installed: { 'tcp-server': `qdisc netem 8001: root refcnt 2 limit 1000 delay ${ms}ms`, 'udp-relay': `qdisc netem 8001: root refcnt 2 limit 1000 delay ${ms}ms` },
      durationMs: 3000,
      drainMs: 1000,
      experiment,
      serverRetransmittedSegments: 0,
      ...analyseStep(experiment, { ...contextAt(profile), rate: 200 }),
    };
  });
  return {
    ...base,
    impairment: { ...base.impairment!, backend: 'netem', reason: 'tc netem is available' },
    settings: { ...base.settings, sweep: { dimension: 'delay', text: 'delay 0ms,20ms 5ms', title: 'delay per impaired point', unit: 'ms' }, rate: 200 },
    steps,
  };
}
