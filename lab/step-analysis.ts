import { binomialInterval, mathisBitsPerSecond, pathLoss, rfc5348BitsPerSecond, type Direction } from '@lab/impairment';
import type { ExperimentReport } from '../services/client/src/report.ts';
import type { SweepStep, TcpDirectionResult } from './sweep-result.ts';

/** What the models say about one step, next to what the client measured. Pure: numbers in, numbers out. */
export interface StepContext {
  lossPercent: number;
  /** The link's figures the models use: one RTT, RTO and MSS for the whole sweep (see linkFigures). */
  link: LinkFigures | null;
  /** Where the impaired servers lose packets: into them, out of them, or both. */
  direction: Direction;
  /** Impaired points between a UDP sender and a receiver (the relay's way in, its way out, or both). */
  udpPathHops: number;
}

export interface LinkFigures {
  rttMs: number;
  rtoMs: number;
  mss: number;
}

/**
 * One RTT, RTO and MSS for the link: the medians of what the kernel reported for each step's
 * connection. Sub-millisecond RTTs jump from step to step (0.1 to 1.3 ms on a veth); a model fed each
 * step's own would jump with them and hide the shape of the curve.
 */
export function linkFigures(reports: ExperimentReport[]): LinkFigures | null {
  const connections = reports.flatMap((report) => ('error' in report.tcp || !report.tcp.connection ? [] : [report.tcp.connection]));
  if (connections.length === 0) return null;
  const median = (values: number[]) => {
    const sorted = [...values].sort((a, b) => a - b);
    const middle = Math.floor(sorted.length / 2);
    return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
  };
  return { rttMs: median(connections.map((c) => c.rttMs)), rtoMs: median(connections.map((c) => c.rtoMs)), mss: median(connections.map((c) => c.mss)) };
}

const finiteMbit = (bitsPerSecond: number) => (Number.isFinite(bitsPerSecond) ? bitsPerSecond / 1e6 : null);

function tcpDirection(link: LinkFigures | null, dataLoss: number, measured: number | null): TcpDirectionResult {
  const model = (f: (link: LinkFigures) => number) => (link && link.rttMs > 0 ? finiteMbit(f(link)) : null);
  return {
    dataLossPercent: dataLoss * 100,
    measuredMbitPerS: measured,
    mathisMbitPerS: model(({ mss, rttMs }) => mathisBitsPerSecond(mss, rttMs / 1000, dataLoss)),
    rfc5348MbitPerS: model(({ mss, rttMs, rtoMs }) => rfc5348BitsPerSecond(mss, rttMs / 1000, dataLoss, rtoMs / 1000)),
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
      upload: tcpDirection(context.link, uploadLoss, tcp ? tcp.uploadMbitPerS : null),
      download: tcpDirection(context.link, downloadLoss, tcp ? tcp.downloadMbitPerS : null),
    },
    udp:
      'error' in report.udp
        ? []
        : report.udp.modes.map((mode) => ({
            mode: mode.mode,
            expectedLossPercent: expected * 100,
            receivers: mode.receivers.map((r) => {
              const band99 = binomialInterval(r.sent, expected, 0.99);
              const band95 = binomialInterval(r.sent, expected, 0.95);
              return { receiver: r.receiver, lost: r.lost, sent: r.sent, band95, band99, withinBand: r.lost >= band99[0] && r.lost <= band99[1] };
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
