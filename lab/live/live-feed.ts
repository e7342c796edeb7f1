import type { SweepResult } from '@lab/results';
import type { LiveEvent } from './live-events.ts';
import type { SweepEvent } from '../sweep.ts';
import { deliveredPercent, tcpOutcome, tcpOutcomeWords } from '../sweep-outcome.ts';
import { udpFigures } from '../udp-figures.ts';

/** The live page's first event: what the sweep sweeps, on which lab, and its steps' labels. */
export function sweepStarted(title: string, lab: string, steps: readonly string[]): LiveEvent {
  return { kind: 'sweep', title, lab, steps: [...steps] };
}

/** A sweep's event as the live page is told it: a step's verdict in the words the table and chart use. */
export function liveEventOf(event: SweepEvent): LiveEvent {
  if (event.kind === 'step-start' || event.kind === 'sample') return { ...event };
  const { experiment } = event;
  const outcome = tcpOutcome({ experiment });
  const tcp = 'error' in experiment.tcp ? null : experiment.tcp;
  return {
    kind: 'step-end',
    index: event.index,
    durationMs: event.durationMs,
    tcp: { outcome, text: tcpOutcomeWords[outcome].long, uploadMbitPerS: tcp?.uploadMbitPerS ?? null, downloadMbitPerS: tcp?.downloadMbitPerS ?? null },
    udp: 'error' in experiment.udp ? [] : experiment.udp.modes.map((mode) => ({ mode: mode.mode, deliveredPercent: finiteOrNull(deliveredPercent(mode.receivers)) })),
    figures: 'error' in experiment.udp ? [] : experiment.udp.modes.flatMap((mode) => {
      const check = event.udp.find((candidate) => candidate.mode === mode.mode);
      return mode.receivers.flatMap((result) => {
        const verdicts = check?.receivers.find((r) => r.receiver === result.receiver)?.verdicts;
        return check && verdicts ? udpFigures(check, verdicts, result).map(({ name, text, band, verdict }) => ({ mode: mode.mode, receiver: result.receiver, name, text, band, verdict })) : [];
      });
    }),
    summary: event.summary,
  };
}

const finiteOrNull = (value: number) => (Number.isFinite(value) ? value : null);

/** The last event: the verdict and the report's HTML, as the file the demo writes. */
export function sweepEnded(result: Pick<SweepResult, 'ok'>, reportHtml: string): LiveEvent {
  return { kind: 'end', ok: result.ok, reportHtml };
}
