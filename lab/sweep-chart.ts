import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import { mathisBitsPerSecond, rfc5348BitsPerSecond } from '@lab/impairment';
import type { SweepResult } from './sweep-result.ts';
import { deliveredPercent } from './sweep.ts';
import { describeImpairment } from './sweep-table.ts';

/**
 * The sweep as a chart: Vega-Lite (a grammar of graphics) draws axes, scales and legends; this file only
 * says what to plot. Three panels over the same loss axis: UDP delivered per mode inside the band the
 * binomial model expects; TCP goodput on a log scale beside the Mathis and RFC 5348 curves; and whether
 * each TCP copy was identical.
 */
export function sweepChartSpec(result: SweepResult): TopLevelSpec {
  const steps = result.steps;
  // Explicit domains: a sweep of one step (the loopback lab) would give Vega a zero-width one to divide.
  const lossDomain = [0, Math.max(1, ...steps.map((step) => step.lossPercent))];
  const loss = { field: 'loss', type: 'quantitative', title: 'loss per impaired point (%)', scale: { domain: lossDomain } } as const;
  const delivered = steps.flatMap((step) => {
    const { udp } = step.experiment;
    return 'error' in udp ? [] : udp.modes.map((m) => ({ loss: step.lossPercent, mode: m.mode, delivered: deliveredPercent(m.receivers) }));
  });
  const bands = steps.flatMap((step) => {
    const check = step.udp[0]?.receivers[0];
    if (!check || check.sent === 0) return [];
    const expected = 100 - step.udp[0]!.expectedLossPercent;
    return [{ loss: step.lossPercent, expected, low: 100 * (1 - check.band99[1] / check.sent), high: 100 * (1 - check.band99[0] / check.sent) }];
  });
  const lowest = Math.min(100, ...delivered.map((d) => d.delivered), ...bands.map((b) => b.low));
  const deliveredDomain = [Math.max(0, Math.floor((lowest - 1) / 5) * 5), 100];
  // Which packets of each transfer met the loss: its data, its ACKs, or both.
  const lost = result.impairment
    ? { in: ['data lost', 'ACKs lost'], out: ['ACKs lost', 'data lost'], both: ['data and ACKs lost', 'data and ACKs lost'] }[result.impairment.direction]
    : ['no loss', 'no loss'];
  const measured = steps.flatMap((step) => {
    const { tcp } = step.experiment;
    if ('error' in tcp) return [];
    return [
      { loss: step.lossPercent, series: `upload, measured (${lost[0]})`, mbit: tcp.uploadMbitPerS },
      { loss: step.lossPercent, series: `download, measured (${lost[1]})`, mbit: tcp.downloadMbitPerS },
    ];
  });
  const models = modelCurves(result);
  const integrity = steps.map((step) => {
    const { tcp } = step.experiment;
    const status = 'error' in tcp ? (tcp.error.code === 'LAB_ERR_DEADLINE' ? 'did not complete in time' : 'failed') : tcp.identical ? 'identical' : 'mismatch';
    return { loss: step.lossPercent, status };
  });
  const width = 560;
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: {
      text: 'TCP vs UDP under packet loss',
      subtitle: `${result.lab.backend}; ${describeImpairment(result, { short: true })}; ${result.startedAt.slice(0, 16).replace('T', ' ')} UTC`,
    },
    config: { font: 'DejaVu Sans, Helvetica, Arial, sans-serif', legend: { labelLimit: 320 } },
    vconcat: [
      {
        title: `UDP: datagrams delivered (${result.settings.datagrams} per mode, ${result.settings.receivers} receivers each), band: 99% expected`,
        width,
        height: 220,
        layer: [
          { data: { values: bands }, mark: { type: 'area', opacity: 0.18, color: '#777' }, encoding: { x: loss, y: { field: 'low', type: 'quantitative', title: 'delivered (%)', scale: { domain: deliveredDomain } }, y2: { field: 'high' } } },
          { data: { values: bands }, mark: { type: 'line', strokeDash: [4, 3], color: '#555' }, encoding: { x: loss, y: { field: 'expected', type: 'quantitative' } } },
          {
            data: { values: delivered },
            mark: { type: 'line', point: true },
            encoding: { x: loss, y: { field: 'delivered', type: 'quantitative' }, color: { field: 'mode', type: 'nominal', title: 'UDP mode' } },
          },
        ],
      },
      {
        title: `TCP: goodput of ${(result.settings.fileBytes / 1024 / 1024).toFixed(1)} MiB each way, and what two models predict for its loss`,
        width,
        height: 220,
        layer: [
          {
            data: { values: models },
            mark: { type: 'line', strokeDash: [6, 3] },
            encoding: { x: loss, y: { field: 'mbit', type: 'quantitative', scale: { type: 'log' }, title: 'Mbit/s (log)' }, color: { field: 'series', type: 'nominal', title: 'TCP', scale: { scheme: 'dark2' } } },
          },
          { data: { values: measured }, mark: { type: 'line', point: true }, encoding: { x: loss, y: { field: 'mbit', type: 'quantitative' }, color: { field: 'series', type: 'nominal' } } },
        ],
        resolve: { scale: { color: 'shared' } },
      },
      {
        title: 'TCP: the copy that came back',
        width,
        height: 40,
        data: { values: integrity },
        mark: { type: 'point', filled: true, size: 140 },
        encoding: {
          x: loss,
          shape: { field: 'status', type: 'nominal', title: 'TCP copy' },
          color: { field: 'status', type: 'nominal', title: 'TCP copy', scale: { domain: ['identical', 'did not complete in time', 'mismatch', 'failed'], range: ['#2a9d3a', '#e08a00', '#c62828', '#6d0000'] } },
        },
      },
    ],
    resolve: { scale: { color: 'independent', shape: 'independent' }, legend: { color: 'independent' } },
  } as TopLevelSpec;
}

/** The two models on a fine grid of loss, with the link's figures the steps' models used. */
function modelCurves(result: SweepResult): { loss: number; series: string; mbit: number }[] {
  const link = result.models.link;
  const lossy = result.steps.filter((step) => step.tcp.upload.dataLossPercent > 0).map((step) => step.tcp.upload.dataLossPercent);
  if (!link || link.rttMs <= 0 || lossy.length === 0) return [];
  const { rttMs, rtoMs, mss } = link;
  const low = Math.min(...lossy) / 2;
  const high = Math.max(...lossy);
  const points = 60;
  return Array.from({ length: points + 1 }, (_, i) => low * (high / low) ** (i / points)).flatMap((percent) => [
    { loss: percent, series: 'Mathis model', mbit: mathisBitsPerSecond(mss, rttMs / 1000, percent / 100) / 1e6 },
    { loss: percent, series: 'RFC 5348 model', mbit: rfc5348BitsPerSecond(mss, rttMs / 1000, percent / 100, rtoMs / 1000) / 1e6 },
  ]);
}

/** Renders the chart to SVG in Node, no browser: Vega's headless view (text widths are estimated). */
export async function renderSweepSvg(result: SweepResult): Promise<string> {
  const view = new vega.View(vega.parse(compile(sweepChartSpec(result)).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

const escapeHtml = (text: string) => text.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);

/** One HTML file with everything in it (the SVG inline, no script, no link): it opens anywhere, offline. */
export function sweepHtml(result: SweepResult, svg: string, table: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>TCP vs UDP under packet loss: ${escapeHtml(result.startedAt)}</title>
<style>
  body { font-family: system-ui, sans-serif; margin: 2rem; color: #222; max-width: 80rem; }
  pre { background: #f6f6f6; padding: 1rem; overflow-x: auto; font-size: 0.8rem; }
</style>
</head>
<body>
<h1>TCP vs UDP under packet loss</h1>
<p>${escapeHtml(result.lab.description)}.<br>
Impairment: ${escapeHtml(describeImpairment(result))}.
Run started ${escapeHtml(result.startedAt)}; the whole result is in the JSON file beside this page.</p>
${svg}
<h2>The numbers</h2>
<pre>${escapeHtml(table)}</pre>
</body>
</html>
`;
}
