import type { Expected } from '@lab/impairment';
import type { AccuracyOutcome } from './accuracy-run.ts';
import type { SendGaps } from '../capture/send-gaps.ts';

/**
 * The accuracy check's report, for people: per profile, each figure as iperf3 and the lab measured it,
 * with what netem's algorithm expects for each tool's counting and whether the measurement lies in its
 * 99% band. Pure: outcomes in, text out.
 */
const within = (value: number, [low, high]: [number, number]) => value >= low && value <= high;

function cell(value: number | null, expected: Expected | null, decimals = 0): { text: string; outside: boolean } {
  if (value === null) return { text: '-', outside: false };
  const fixed = (n: number) => n.toFixed(decimals);
  if (!expected) return { text: fixed(value), outside: false };
  const outside = !within(value, expected.band99);
  const band = expected.band99[0] === expected.band99[1] ? fixed(expected.band99[0]) : `${fixed(expected.band99[0])}-${fixed(expected.band99[1])}`;
  return { text: `${fixed(value)}  (${fixed(expected.mean)}; ${band})  ${outside ? 'OUTSIDE' : 'inside'}`, outside };
}

const gapsText = (gaps: SendGaps | null) =>
  gaps ? `p1 ${gaps.p1.toFixed(2)}, p50 ${gaps.p50.toFixed(2)}, p99 ${gaps.p99.toFixed(2)} ms; ${gaps.bursts} under half` : 'not captured';

/** Zero where the profile moves nothing in time: netem expects exactly none. */
const orZero = (figure: Expected | null): Expected => figure ?? { mean: 0, band95: [0, 0], band99: [0, 0] };

export function formatAccuracy(outcomes: readonly AccuracyOutcome[], shape: { datagrams: number; datagramBytes: number; rate: number }): { text: string; outside: string[] } {
  const lines: string[] = [];
  const outside: string[] = [];
  for (const outcome of outcomes) {
    lines.push(`${outcome.profile}: ${shape.datagrams} datagrams of ${shape.datagramBytes} B at ${shape.rate}/s, through one impaired point (the relay host's way in)`);
    lines.push(`  measured  (netem expects; its 99% band)  verdict`);
    const rows: [string, string, string][] = [];
    const add = (figure: string, iperf3: { text: string; outside: boolean }, lab: { text: string; outside: boolean }) => {
      rows.push([figure, iperf3.text, lab.text]);
      if (iperf3.outside) outside.push(`${outcome.profile}: iperf3's ${figure}`);
      if (lab.outside) outside.push(`${outcome.profile}: the lab's ${figure}`);
    };
    const i = 'problem' in outcome.iperf3 ? null : outcome.iperf3;
    const l = 'problem' in outcome.lab ? null : outcome.lab;
    const none = { text: '-', outside: false };
    add('lost', i ? cell(i.figures.lost, i.expected.lost) : none, l ? cell(l.figures.lost, l.expected.lost) : none);
    add('duplicated', i ? { text: 'in out of order (iperf3 counts a second copy as out of order)', outside: false } : none, l ? cell(l.figures.duplicates, l.expected.duplicates) : none);
    add('out of order', i ? cell(i.figures.outOfOrder, orZero(i.expected.outOfOrder)) : none, l ? cell(l.figures.outOfOrder, orZero(l.expected.outOfOrder)) : none);
    add('jitter ms', i ? cell(i.figures.jitterMs, i.expected.jitterMs, 3) : none, l ? cell(l.figures.jitterMs, l.expected.jitterMs, 3) : none);
    add(`send gaps (nominal ${(1000 / shape.rate).toFixed(2)} ms)`, { text: gapsText(i?.gaps ?? null), outside: false }, { text: gapsText(l?.gaps ?? null), outside: false });
    const header: [string, string, string] = ['', `iperf3 -u${i ? ` (${i.figures.counted} counted of ${i.figures.sent} sent)` : ''}`, `the lab's stream${l ? ` (${l.figures.sent} sent)` : ''}`];
    const widths = [0, 1, 2].map((k) => Math.max(...[header, ...rows].map((row) => row[k]!.length)));
    for (const row of [header, ...rows]) lines.push(`  ${row.map((text, k) => text.padEnd(widths[k]!)).join('   ')}`.trimEnd());
    if ('problem' in outcome.iperf3) lines.push(`  iperf3: ${outcome.iperf3.problem}`);
    if ('problem' in outcome.lab) lines.push(`  the lab: ${outcome.lab.problem}`);
    if (outcome.captureFile) lines.push(`  capture: ${outcome.captureFile}`);
    lines.push('');
  }
  lines.push(outside.length === 0 ? 'accuracy: every figure of both tools lies in its 99% band' : `accuracy: outside the 99% band: ${outside.join('; ')}`);
  return { text: `${lines.join('\n')}\n`, outside };
}
