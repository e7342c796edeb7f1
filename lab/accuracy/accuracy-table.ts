import type { Expected } from '@lab/impairment';
import type { Verdict } from '@lab/results';
import type { SendGaps } from '../capture/send-gaps.ts';
import { verdictOf, withOwnCount, withOwnJitter, type OwnJitter } from '../figure-verdict.ts';
import type { AccuracyOutcome, AccuracyReport } from './accuracy-run.ts';

/**
 * The accuracy check's report, for people: per profile, each figure as iperf3 and the lab measured it,
 * beside what netem's algorithm expects for each tool's counting with that tool's own part added (its
 * calibration, nothing impaired, and its sender's bursts in the capture), and the verdict: inside the
 * 99% band, outside it, or the tool's own (its own part larger than the network's). Pure: outcomes in,
 * text out.
 */
interface Own {
  lost: number;
  duplicates: number;
  outOfOrder: number;
  late: number;
  jitter: OwnJitter;
}

/** What the calibration says of one tool: its own counts, and its jitter (the lab's: how high it went). */
function ownOf(tool: 'iperf3' | 'lab', calibration: AccuracyOutcome): Own | null {
  if (tool === 'iperf3') {
    const run = calibration.iperf3;
    return 'problem' in run ? null : { lost: run.figures.lost, duplicates: 0, outOfOrder: run.figures.outOfOrder, late: 0, jitter: { typical: run.figures.jitterMedianMs, high: run.figures.jitterMaxMs } };
  }
  const run = calibration.lab;
  if ('problem' in run) return null;
  const f = run.figures;
  return { lost: f.lost, duplicates: f.duplicates, outOfOrder: f.outOfOrder, late: f.late, jitter: { typical: f.jitterP50Ms, high: f.jitterP99Ms } };
}

interface Cell {
  text: string;
  verdict: Verdict | null;
}

function cell(value: number, network: Expected | null, own: number | OwnJitter | null, digits = 0): Cell {
  const jitter = typeof own === 'object' && own !== null;
  const combined = jitter ? withOwnJitter(network, own) : withOwnCount(network, own);
  const verdict = verdictOf(value, network, jitter ? own.typical : own, combined, jitter ? 'jitter' : 'count');
  const fixed = (n: number) => n.toFixed(digits);
  const band = combined.band99[0] === combined.band99[1] ? fixed(combined.band99[0]) : `${fixed(combined.band99[0])}-${fixed(combined.band99[1])}`;
  return { text: `${fixed(value)}  (${fixed(combined.mean)}; ${band})  ${verdict === 'outside' ? 'OUTSIDE' : verdict === 'lab' ? 'its own' : 'inside'}`, verdict };
}

const gapsText = (gaps: SendGaps | null) =>
  gaps ? `p1 ${gaps.p1.toFixed(2)}, p50 ${gaps.p50.toFixed(2)}, p99 ${gaps.p99.toFixed(2)} ms; ${gaps.bursts} under half` : 'not captured';

/** Zero where netem can make none of a count: it expects exactly none. */
const NONE: Expected = { mean: 0, band95: [0, 0], band99: [0, 0] };

export function formatAccuracy(report: AccuracyReport, shape: { datagrams: number; datagramBytes: number; rate: number }): { text: string; outside: string[] } {
  const lines: string[] = [];
  const outside: string[] = [];
  const own = { iperf3: ownOf('iperf3', report.calibration), lab: ownOf('lab', report.calibration) };
  const c = report.calibration;
  lines.push(`calibration, nothing impaired: each tool's own part on this lab (${shape.datagrams} datagrams of ${shape.datagramBytes} B at ${shape.rate}/s)`);
  lines.push(`  iperf3 -u: ${'problem' in c.iperf3 ? c.iperf3.problem : `jitter ${c.iperf3.figures.jitterMs.toFixed(3)} ms (each second: median ${c.iperf3.figures.jitterMedianMs.toFixed(3)}, up to ${c.iperf3.figures.jitterMaxMs.toFixed(3)}), ${c.iperf3.figures.outOfOrder} out of order, ${c.iperf3.figures.lost} lost; sent ${gapsText(c.iperf3.gaps)}`}`);
  lines.push(`  the lab:   ${'problem' in c.lab ? c.lab.problem : `jitter ${c.lab.figures.jitterMs.toFixed(3)} ms (over the stream: median ${c.lab.figures.jitterP50Ms.toFixed(3)}, up to ${c.lab.figures.jitterP99Ms.toFixed(3)}), ${c.lab.figures.outOfOrder} reordered, ${c.lab.figures.lost} lost; sent ${gapsText(c.lab.gaps)}`}`);
  lines.push('');
  for (const outcome of report.outcomes) {
    const timing = outcome.movesInTime;
    lines.push(`${outcome.profile}: ${shape.datagrams} datagrams of ${shape.datagramBytes} B at ${shape.rate}/s, through one impaired point (the relay host's way in)`);
    lines.push(`  measured  (expected: netem's model and the tool's own part; its 99% band)  verdict`);
    const rows: [string, string, string][] = [];
    const add = (figure: string, iperf3: Cell, lab: Cell) => {
      rows.push([figure, iperf3.text, lab.text]);
      if (iperf3.verdict === 'outside') outside.push(`${outcome.profile}: iperf3's ${figure}`);
      if (lab.verdict === 'outside') outside.push(`${outcome.profile}: the lab's ${figure}`);
    };
    const none: Cell = { text: '-', verdict: null };
    const i = 'problem' in outcome.iperf3 ? null : outcome.iperf3;
    const l = 'problem' in outcome.lab ? null : outcome.lab;
    // A sender's bursts at this step (the capture) are its own reordering, where netem's timing can reorder them.
    const bursts = (gaps: SendGaps | null) => (timing ? (gaps?.bursts ?? 0) : 0);
    const oi = own.iperf3;
    const ol = own.lab;
    add('lost', i ? cell(i.figures.lost, i.expected.lost, oi?.lost ?? null) : none, l ? cell(l.figures.lost, l.expected.lost, ol?.lost ?? null) : none);
    add(
      'duplicated',
      i ? { text: 'in out of order (iperf3 counts a second copy as out of order)', verdict: null } : none,
      l ? cell(l.figures.duplicates, l.expected.duplicates, ol?.duplicates ?? null) : none,
    );
    add(
      'out of order',
      i ? cell(i.figures.outOfOrder, i.expected.outOfOrder ?? NONE, oi ? oi.outOfOrder + bursts(i.gaps) : null) : none,
      l ? cell(l.figures.outOfOrder, l.expected.outOfOrder ?? NONE, ol ? ol.outOfOrder + bursts(l.gaps) : null) : none,
    );
    add('jitter ms', i ? cell(i.figures.jitterMs, i.expected.jitterMs, oi?.jitter ?? null, 3) : none, l ? cell(l.figures.jitterMs, l.expected.jitterMs, ol?.jitter ?? null, 3) : none);
    add(`send gaps (nominal ${(1000 / shape.rate).toFixed(2)} ms)`, { text: gapsText(i?.gaps ?? null), verdict: null }, { text: gapsText(l?.gaps ?? null), verdict: null });
    const header: [string, string, string] = ['', `iperf3 -u${i ? ` (${i.figures.counted} counted of ${i.figures.sent} sent)` : ''}`, `the lab's stream${l ? ` (${l.figures.sent} sent)` : ''}`];
    const widths = [0, 1, 2].map((k) => Math.max(...[header, ...rows].map((row) => row[k]!.length)));
    for (const row of [header, ...rows]) lines.push(`  ${row.map((text, k) => text.padEnd(widths[k]!)).join('   ')}`.trimEnd());
    if ('problem' in outcome.iperf3) lines.push(`  iperf3: ${outcome.iperf3.problem}`);
    if ('problem' in outcome.lab) lines.push(`  the lab: ${outcome.lab.problem}`);
    if (outcome.captureFile) lines.push(`  capture: ${outcome.captureFile}`);
    lines.push('');
  }
  lines.push(outside.length === 0 ? 'accuracy: every figure of both tools lies in its 99% band, or is the tool\'s own' : `accuracy: outside the 99% band: ${outside.join('; ')}`);
  return { text: `${lines.join('\n')}\n`, outside };
}
