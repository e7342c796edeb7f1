import type { SweepResult, SweepStep } from '@lab/results';

/**
 * What became of a step's TCP copy, and of its UDP streams, and where the network was impaired, in the
 * words each output uses: one owner for what the table, the chart and the progress lines all show.
 */
export type TcpOutcome = 'identical' | 'cut' | 'failed' | 'mismatch';

export function tcpOutcome(step: Pick<SweepStep, 'experiment'>): TcpOutcome {
  const { tcp } = step.experiment;
  if ('error' in tcp) return tcp.error.code === 'LAB_ERR_DEADLINE' ? 'cut' : 'failed';
  return tcp.identical ? 'identical' : 'mismatch';
}

/** short: the summary table's cell; long: the chart's legend. */
export const tcpOutcomeWords: Record<TcpOutcome, { short: string; long: string }> = {
  identical: { short: 'identical', long: 'identical' },
  cut: { short: 'cut', long: 'did not complete in time' },
  failed: { short: 'failed', long: 'failed' },
  mismatch: { short: 'MISMATCH', long: 'mismatch' },
};

/** Share of the sent datagrams the receivers of one mode got (each counted once), in percent. */
export function deliveredPercent(receivers: { sent: number; unique: number }[]): number {
  const sent = receivers.reduce((sum, r) => sum + r.sent, 0);
  return sent === 0 ? 0 : (100 * receivers.reduce((sum, r) => sum + r.unique, 0)) / sent;
}

/** Where the impairment was, in one line; or, where the lab could not impair, why not. */
export function describeImpairment(result: SweepResult, { short = false } = {}): string {
  const { impairment } = result;
  if (!impairment) return short ? 'no impairment' : 'none: this lab has no network of its own to impair (see its limits)';
  const where = { in: 'into', out: 'out of', both: 'into and out of' }[impairment.direction];
  if (short) return `${impairment.backend}: on packets ${where} ${impairment.hosts.join(' and ')}`;
  const hops = `${impairment.udpPathHops} impaired point${impairment.udpPathHops === 1 ? '' : 's'}`;
  const fixed = result.settings.profile === 'none' ? '' : `; at every step: ${result.settings.profile}`;
  return `${impairment.backend} (${impairment.reason}), on packets ${where} ${impairment.hosts.join(' and ')}; a UDP datagram crosses ${hops}${fixed}`;
}
