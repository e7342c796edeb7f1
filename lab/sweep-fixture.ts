// A sweep result made by hand, for the unit tests of the table, the chart and the analysis.
import type { ExperimentReport } from '../services/client/src/report.ts';
import { analyseStep } from './step-analysis.ts';
import type { SweepResult, SweepStep } from './sweep-result.ts';

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
        receivers: [receiver(1), receiver(2)],
        host: { inDatagrams: 4000, inErrors: 0, rcvbufErrors: 0 },
        wire: { interface: 'eth0', packets: 1003, wireBytes: 554_162, payloadBytes: 512_036, retransmittedBytes: 0, headerBytesPerPacket: 42 },
      })),
    },
  };
}

export function stepAt(lossPercent: number, experiment: ExperimentReport): SweepStep {
  return {
    lossPercent,
    profile: lossPercent > 0 ? `loss random ${lossPercent}%` : 'none',
    installed: { 'tcp-server': '-A LAB-IMPAIR …', 'udp-relay': '-A LAB-IMPAIR …' },
    durationMs: 3000,
    experiment,
    serverRetransmittedSegments: 0,
    ...analyseStep(experiment, { lossPercent, direction: 'in', udpPathHops: 1, link: FIXTURE_LINK }),
  };
}

export function sweepFixture(): SweepResult {
  const steps = [stepAt(0, experimentAt(300, 0)), stepAt(10, experimentAt(7.5, 100)), stepAt(30, experimentAt('cut', 300))];
  return {
    schema: 'tcp-udp-lab/sweep',
    version: 1,
    startedAt: '2026-11-25T18:00:00.000Z',
    lab: { backend: 'containers', description: 'Docker containers on a test network', limits: [], skipped: [] },
    models: { link: FIXTURE_LINK },
    impairment: { backend: 'iptables', reason: 'no netem in this kernel', direction: 'in', hosts: ['tcp-server', 'udp-relay'], udpPathHops: 1, segmentSizedPackets: true },
    settings: { lossPercents: [0, 10, 30], extraProfile: 'none', fileBytes: 1024 * 1024, datagrams: 1000, datagramBytes: 512, rate: 2000, receivers: 2, modes: ['unicast', 'multicast'], tcpDeadlineMs: 60_000 },
    steps,
    ok: true,
  };
}
