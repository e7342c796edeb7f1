import type { UdpModeCheck, UdpReceiverResult, Verdict } from '@lab/results';

/** One figure of one UDP receiver with its verdict, in the words the table, the summary and the live page share. */
export interface UdpFigure {
  /** "lost", "duplicated", "reordered", "late", "jitter". */
  name: string;
  value: number;
  /** The value as shown ("1.274 ms", "12"). */
  text: string;
  /** The 99% band it is judged against (the network's part and the lab's own), as shown. */
  band: string;
  verdict: Verdict;
}

const range = ([low, high]: [number, number], digits = 0) => (low === high ? low.toFixed(digits) : `${low.toFixed(digits)}-${high.toFixed(digits)}`);

/** The figures of one receiver that have an expectation, each with its band and verdict. */
export function udpFigures(check: UdpModeCheck, verdicts: UdpModeCheck['receivers'][number]['verdicts'], result: UdpReceiverResult): UdpFigure[] {
  const { expected } = check;
  const figure = (name: string, value: number, band: [number, number], verdict: Verdict, digits = 0, unit = ''): UdpFigure => ({
    name,
    value,
    text: `${value.toFixed(digits)}${unit}`,
    band: `${range(band, digits)}${unit}`,
    verdict,
  });
  return [
    figure('lost', result.lost, expected.lost.band99, verdicts.lost),
    figure('duplicated', result.duplicates, expected.duplicates.band99, verdicts.duplicates),
    figure('reordered', result.outOfOrder, expected.outOfOrder.band99, verdicts.outOfOrder),
    figure('late', result.late, expected.late.band99, verdicts.late),
    figure('jitter', result.jitterMs, expected.jitterMs.band99, verdicts.jitter, 3, ' ms'),
  ];
}

/** The mark beside a figure in the step's table: inside its band, outside it, the lab's own. */
export const verdictMark: Record<Verdict, string> = { inside: '✓', outside: '!', lab: '~' };

/** The legend of those marks, under the table. */
export const VERDICT_LEGEND = "✓ inside its 99% band (the network's part and the lab's own), ! outside it, ~ the lab's own: its calibration shows more of it than the network adds";
