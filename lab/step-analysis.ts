import { binomialInterval, mathisBitsPerSecond, pathLoss, rfc5348BitsPerSecond, type Direction } from '@lab/impairment';
import type { ExperimentReport } from '../services/client/src/report.ts';
import type { SweepStep, TcpDirectionResult } from './sweep-result.ts';

/** What the models say about one step, next to what the client measured. Pure: numbers in, numbers out. */
export interface StepContext {
  lossPercent: number;
  /** Where the impaired servers lose packets: into them, out of them, or both. */
  direction: Direction;
  /** Impaired points between a UDP sender and a receiver (the relay's way in, its way out, or both). */
  udpPathHops: number;
}

const finiteMbit = (bitsPerSecond: number) => (Number.isFinite(bitsPerSecond) ? bitsPerSecond / 1e6 : null);

function tcpDirection(report: ExperimentReport, dataLoss: number, measured: number | null): TcpDirectionResult {
  const connection = 'error' in report.tcp ? null : report.tcp.connection;
  const model = (f: () => number) => (connection && connection.rttMs > 0 ? finiteMbit(f()) : null);
  return {
    dataLossPercent: dataLoss * 100,
    measuredMbitPerS: measured,
    mathisMbitPerS: model(() => mathisBitsPerSecond(connection!.mss, connection!.rttMs / 1000, dataLoss)),
    rfc5348MbitPerS: model(() => rfc5348BitsPerSecond(connection!.mss, connection!.rttMs / 1000, dataLoss, connection!.rtoMs / 1000)),
  };
}

export function analyseStep(report: ExperimentReport, context: StepContext): Pick<SweepStep, 'tcp' | 'udp'> {
  const p = context.lossPercent / 100;
  // The upload's data goes into the TCP server, the download's out of it; ACKs the other way.
  const uploadLoss = context.direction === 'out' ? 0 : p;
  const downloadLoss = context.direction === 'in' ? 0 : p;
  const tcp = 'error' in report.tcp ? null : report.tcp;
  const expected = pathLoss(p, context.udpPathHops);
  return {
    tcp: {
      upload: tcpDirection(report, uploadLoss, tcp ? tcp.uploadMbitPerS : null),
      download: tcpDirection(report, downloadLoss, tcp ? tcp.downloadMbitPerS : null),
    },
    udp:
      'error' in report.udp
        ? []
        : report.udp.modes.map((mode) => ({
            mode: mode.mode,
            expectedLossPercent: expected * 100,
            receivers: mode.receivers.map((r) => {
              const band99 = binomialInterval(r.sent, expected, 0.99);
              return { receiver: r.receiver, lost: r.lost, sent: r.sent, band99, withinBand: r.lost >= band99[0] && r.lost <= band99[1] };
            }),
          })),
  };
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
