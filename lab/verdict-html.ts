import type { SweepResult, Verdict } from '@lab/results';
import { escapeHtml } from './html-text.ts';
import { udpFigures, verdictMark } from './udp-figures.ts';

const words: Record<Verdict, string> = { inside: 'inside its band', outside: 'OUTSIDE its band', lab: "the lab's own" };

/**
 * The report page's table of verdicts: every UDP receiver's figures at every step, each with the 99% band
 * it is judged against (the network's part and the lab's own) and whether it lies inside, outside, or is
 * the lab's own (its calibration shows more of it than the network adds). Colour says the same as the
 * mark, for those who read the page without the legend.
 */
export function verdictsSection(result: SweepResult): string {
  const rows: string[] = [];
  const names = ['lost', 'duplicated', 'reordered', 'late', 'jitter'];
  for (const [index, step] of result.steps.entries()) {
    const { udp } = step.experiment;
    if ('error' in udp) continue;
    for (const check of step.udp) {
      const measured = udp.modes.find((mode) => mode.mode === check.mode);
      for (const receiver of check.receivers) {
        const result = measured?.receivers.find((r) => r.receiver === receiver.receiver);
        if (!result) continue;
        const cells = udpFigures(check, receiver.verdicts, result).map(
          (figure) => `<td class="${figure.verdict}" title="${escapeHtml(`${figure.name}: ${words[figure.verdict]}`)}">${escapeHtml(`${figure.text} ${verdictMark[figure.verdict]}`)}<br><small>${escapeHtml(figure.band)}</small></td>`,
        );
        rows.push(`<tr><td>${index + 1}: ${escapeHtml(step.label)}</td><td>${escapeHtml(check.mode)}</td><td>${receiver.receiver}</td>${cells.join('')}</tr>`);
      }
    }
  }
  if (rows.length === 0) return '';
  const calibrated = result.calibration
    ? "Each band is netem's model of the stream as asked for (every datagram at its nominal time) with the lab's own part added, as the calibration before the first step measured it with nothing impaired."
    : "Each band is netem's model of the stream as asked for; this lab ran no calibration (it cannot impair its network), so what the network does not make is the lab's own.";
  return `<h2>Every figure against its band</h2>
<p>${escapeHtml(calibrated)} ✓ inside its 99% band, <span class="outside">! outside it</span>, <span class="lab">~ the lab's own: its calibration shows more of it than the network adds, so it is not the network's</span>.</p>
<table class="verdicts">
<thead><tr><th>step</th><th>mode</th><th>receiver</th>${names.map((name) => `<th>${name}</th>`).join('')}</tr></thead>
<tbody>
${rows.join('\n')}
</tbody>
</table>
${result.outside.length > 0 ? `<p>Outside their 99% band:</p><ul>${result.outside.map((line) => `<li class="outside">${escapeHtml(line)}</li>`).join('')}</ul>` : '<p>No figure lies outside its 99% band.</p>'}`;
}
