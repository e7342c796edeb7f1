import type { SweepDimension, SweepStep } from '@lab/results';
import { udpFigures } from './udp-figures.ts';

/**
 * Every figure of a sweep outside its 99% band, in words: the summary lists them and the JSON keeps them
 * (`outside`). A correct lab puts about one count in a hundred outside by chance: listed, never hidden,
 * and not a failure of the sweep.
 */
export function sweepOutside(steps: readonly Pick<SweepStep, 'label' | 'experiment' | 'udp' | 'tcp'>[], dimension: SweepDimension): string[] {
  const out: string[] = [];
  for (const [index, step] of steps.entries()) {
    const where = `step ${index + 1} (${dimension} ${step.label})`;
    const { udp, tcp } = step.experiment;
    for (const check of step.udp) {
      const measured = 'error' in udp ? undefined : udp.modes.find((mode) => mode.mode === check.mode);
      for (const receiver of check.receivers) {
        const result = measured?.receivers.find((r) => r.receiver === receiver.receiver);
        if (!result) continue;
        for (const figure of udpFigures(check, receiver.verdicts, result)) {
          if (figure.verdict === 'outside') out.push(`${where}: ${check.mode} receiver ${receiver.receiver}: ${figure.name} ${figure.text}, band ${figure.band}`);
        }
      }
    }
    const connection = 'error' in tcp ? null : tcp;
    if (step.tcp.verdicts.rtt === 'outside' && connection) {
      out.push(`${where}: TCP idle rtt ${(connection.idleRttMs ?? connection.connection?.rttMs ?? 0).toFixed(2)} ms, expected ${step.tcp.expectedRttMs?.toFixed(2) ?? '-'}`);
    }
    for (const direction of ['upload', 'download'] as const) {
      if (step.tcp.verdicts[`${direction}Goodput`] !== 'outside') continue;
      const d = step.tcp[direction];
      out.push(`${where}: TCP ${direction} ${d.measuredMbitPerS?.toFixed(2)} Mbit/s under a rate that lets through ${d.rateLimitMbitPerS?.toFixed(2)}`);
    }
  }
  return out;
}
