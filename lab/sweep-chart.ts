import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import { mathisBitsPerSecond, rfc5348BitsPerSecond } from './tcp-models.ts';
import { deliveredPercent, describeImpairment, tcpOutcome, tcpOutcomeWords } from './sweep-outcome.ts';
import type { SweepResult, SweepStep } from '@lab/results';
import { escapeHtml } from './html-text.ts';
import { packetsSection } from './capture/ladder-svg.ts';
import { verdictsSection } from './verdict-html.ts';

/**
 * The sweep as a chart: Vega-Lite (a grammar of graphics) draws axes, scales and legends; this file only
 * says what to plot. Panels over the swept quantity: UDP delivered per mode inside the band netem
 * predicts; duplicated or reordered datagrams where the profile makes them; TCP goodput on a log scale
 * beside the loss models and the rate limit; the kernel's RTT beside the delay on the path; and whether
 * each TCP copy was identical.
 */
type Layer = Record<string, unknown>;

const share = (count: number, sent: number) => (sent === 0 ? 0 : (100 * count) / sent);

function udpPanel(result: SweepResult, x: object, what: 'delivered' | 'duplicated' | 'reordered', width: number): object | null {
  const steps = result.steps;
  const measuredOf = (step: SweepStep) => {
    const { udp } = step.experiment;
    if ('error' in udp) return [];
    return udp.modes.map((m) => ({
      x: step.value,
      mode: m.mode,
      y:
        what === 'delivered'
          ? deliveredPercent(m.receivers)
          : m.receivers.reduce((sum, r) => sum + share(what === 'duplicated' ? r.duplicates : r.outOfOrder, r.sent), 0) / Math.max(1, m.receivers.length),
    }));
  };
  const measured = steps.flatMap(measuredOf);
  // The band of every mode at once: the modes' expectations differ where broadcast's own copies pass the
  // relay's way in, and a band must hold for each.
  const bands = steps.flatMap((step) => {
    const figures = step.udp.flatMap((check) => {
      const receiver = check.receivers[0];
      if (!receiver || receiver.sent === 0) return [];
      const sent = receiver.sent;
      if (what === 'delivered') {
        const [low, high] = receiver.lostBand99;
        return [{ expected: 100 - check.expectedLossPercent, low: 100 - share(high, sent), high: 100 - share(low, sent) }];
      }
      if (what === 'duplicated') return [{ expected: check.expectedDuplicatePercent, low: share(receiver.duplicatesBand99[0], sent), high: share(receiver.duplicatesBand99[1], sent) }];
      if (!check.outOfOrder) return [{ expected: 0, low: 0, high: 0 }];
      return [{ expected: share(check.outOfOrder.mean, sent), low: share(check.outOfOrder.band99[0], sent), high: share(check.outOfOrder.band99[1], sent) }];
    });
    if (figures.length === 0) return [];
    return [{ x: step.value, expected: figures.reduce((sum, f) => sum + f.expected, 0) / figures.length, low: Math.min(...figures.map((f) => f.low)), high: Math.max(...figures.map((f) => f.high)) }];
  });
  if (what !== 'delivered' && measured.every((m) => m.y === 0) && bands.every((b) => b.high === 0)) return null;
  const values = [...measured.map((m) => m.y), ...bands.flatMap((b) => [b.low, b.high])];
  const domain = what === 'delivered' ? [Math.max(0, Math.floor((Math.min(100, ...values) - 1) / 5) * 5), 100] : [0, Math.max(1, Math.ceil(Math.max(...values) / 5) * 5)];
  const title = {
    delivered: `UDP: datagrams delivered (${result.settings.datagrams} per mode, ${result.settings.receivers} receivers each); band: 99% of what netem gives`,
    duplicated: 'UDP: datagrams that arrived twice; band: 99% of what netem gives',
    reordered: 'UDP: datagrams that arrived after a later one; band: 99% of what netem gives',
  }[what];
  const y = { delivered: 'delivered (%)', duplicated: 'duplicated (%)', reordered: 'reordered (%)' }[what];
  return {
    title,
    width,
    height: 200,
    layer: [
      { data: { values: bands }, mark: { type: 'area', opacity: 0.18, color: '#777' }, encoding: { x, y: { field: 'low', type: 'quantitative', title: y, scale: { domain } }, y2: { field: 'high' } } },
      { data: { values: bands }, mark: { type: 'line', strokeDash: [4, 3], color: '#555' }, encoding: { x, y: { field: 'expected', type: 'quantitative' } } },
      { data: { values: measured }, mark: { type: 'line', point: true }, encoding: { x, y: { field: 'y', type: 'quantitative' }, color: { field: 'mode', type: 'nominal', title: 'UDP mode' } } },
    ],
  };
}

/** Which packets of each transfer met the profile: its data, its ACKs, or both. */
function metLabel(result: SweepResult, direction: 'upload' | 'download'): string {
  if (!result.impairment) return 'not impaired';
  const d = result.steps.find((s) => s.tcp[direction].dataImpairment || s.tcp[direction].ackImpairment)?.tcp[direction];
  if (!d) return 'not impaired';
  return d.dataImpairment && d.ackImpairment ? 'data and ACKs impaired' : d.dataImpairment ? 'data impaired' : 'ACKs impaired';
}

export function sweepChartSpec(result: SweepResult): TopLevelSpec {
  const steps = result.steps;
  const { sweep } = result.settings;
  const values = steps.map((step) => step.value);
  // A rate sweep spans decades (100, 10, 1 Mbit/s): a log axis. Explicit domains: a sweep of one step
  // (the loopback lab) would give Vega a zero-width one to divide.
  const logX = sweep.dimension === 'rate' && Math.min(...values) > 0 && Math.max(...values) / Math.min(...values) >= 10;
  const x = {
    field: 'x',
    type: 'quantitative',
    title: `${sweep.title} (${sweep.unit})`,
    scale: logX ? { type: 'log' } : { domain: [Math.min(0, ...values), Math.max(1, ...values)] },
  } as const;
  const width = 560;
  const measured = steps.flatMap((step) => {
    const { tcp } = step.experiment;
    if ('error' in tcp) return [];
    return [
      { x: step.value, series: `upload, measured (${metLabel(result, 'upload')})`, mbit: tcp.uploadMbitPerS },
      { x: step.value, series: `download, measured (${metLabel(result, 'download')})`, mbit: tcp.downloadMbitPerS },
    ];
  });
  const limits = steps.flatMap((step) => (step.tcp.upload.rateLimitMbitPerS !== null ? [{ x: step.value, series: 'what the rate lets through', mbit: step.tcp.upload.rateLimitMbitPerS }] : []));
  const models = sweep.dimension === 'loss' ? modelCurves(result) : modelPoints(result);
  const tcpLayers: Layer[] = [
    {
      data: { values: [...models, ...limits] },
      mark: { type: 'line', strokeDash: [6, 3], point: sweep.dimension !== 'loss' },
      encoding: { x, y: { field: 'mbit', type: 'quantitative', scale: { type: 'log' }, title: 'Mbit/s (log)' }, color: { field: 'series', type: 'nominal', title: 'TCP', scale: { scheme: 'dark2' } } },
    },
    { data: { values: measured }, mark: { type: 'line', point: true }, encoding: { x, y: { field: 'mbit', type: 'quantitative' }, color: { field: 'series', type: 'nominal' } } },
  ];
  const rtt = steps.flatMap((step) => {
    const { tcp } = step.experiment;
    const points = [];
    if (!('error' in tcp) && tcp.idleRttMs !== null) points.push({ x: step.value, series: 'kernel, idle (ss -ti)', ms: tcp.idleRttMs });
    if (!('error' in tcp) && tcp.connection) points.push({ x: step.value, series: 'kernel, after the upload', ms: tcp.connection.rttMs });
    if (step.tcp.expectedRttMs !== null) points.push({ x: step.value, series: 'expected: link + delay', ms: step.tcp.expectedRttMs });
    return points;
  });
  const withRtt = steps.some((step) => (step.tcp.addedRttMs ?? 0) > 0);
  const integrity = steps.map((step) => ({ x: step.value, status: tcpOutcomeWords[tcpOutcome(step)].long }));
  const panels = [
    udpPanel(result, x, 'delivered', width),
    udpPanel(result, x, 'duplicated', width),
    udpPanel(result, x, 'reordered', width),
    {
      title: `TCP: goodput of ${(result.settings.fileBytes / 1024 / 1024).toFixed(1)} MiB each way${sweep.dimension === 'loss' ? ', and what two models predict for its loss' : ''}`,
      width,
      height: 200,
      layer: tcpLayers,
      resolve: { scale: { color: 'shared' } },
    },
    withRtt
      ? {
          title: 'TCP: round-trip time the kernel measured, and the delay the profile puts on the path',
          width,
          height: 160,
          data: { values: rtt },
          mark: { type: 'line', point: true },
          encoding: { x, y: { field: 'ms', type: 'quantitative', title: 'RTT (ms)' }, color: { field: 'series', type: 'nominal', title: 'RTT' }, strokeDash: { field: 'series', type: 'nominal', legend: null } },
        }
      : null,
    {
      title: 'TCP: the copy that came back',
      width,
      height: 40,
      data: { values: integrity },
      mark: { type: 'point', filled: true, size: 140 },
      encoding: {
        x,
        shape: { field: 'status', type: 'nominal', title: 'TCP copy' },
        color: { field: 'status', type: 'nominal', title: 'TCP copy', scale: { domain: ['identical', 'did not complete in time', 'mismatch', 'failed'], range: ['#2a9d3a', '#e08a00', '#c62828', '#6d0000'] } },
      },
    },
  ].filter((panel) => panel !== null);
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: {
      text: `TCP vs UDP under ${sweep.dimension === 'loss' ? 'packet loss' : sweep.dimension === 'rate' ? 'a rate limit' : sweep.dimension}`,
      subtitle: `${result.lab.backend}; ${describeImpairment(result, { short: true })}; sweep ${sweep.text}${result.settings.profile === 'none' ? '' : ` with ${result.settings.profile}`}; ${result.startedAt.slice(0, 16).replace('T', ' ')} UTC`,
    },
    config: { font: 'DejaVu Sans, Helvetica, Arial, sans-serif', legend: { labelLimit: 320 } },
    vconcat: panels,
    resolve: { scale: { color: 'independent', shape: 'independent' }, legend: { color: 'independent' } },
  } as TopLevelSpec;
}

/** The two models on a fine grid of loss, with the link's figures the steps' models used. */
function modelCurves(result: SweepResult): { x: number; series: string; mbit: number }[] {
  const link = result.models.link;
  const lossy = result.steps.filter((step) => step.tcp.upload.dataLossPercent > 0 && step.tcp.upload.mathisMbitPerS !== null);
  if (!link || link.rttMs <= 0 || lossy.length === 0) return [];
  // The x axis is the loss per impaired point; the models take the loss the data met, which is the same
  // for a loss sweep (one point on the upload's way) and scales with it otherwise.
  const { rttMs, rtoMs, mss } = link;
  const added = lossy[0]!.tcp.addedRttMs ?? 0;
  const low = Math.min(...lossy.map((s) => s.value)) / 2;
  const high = Math.max(...lossy.map((s) => s.value));
  const scale = lossy[0]!.tcp.upload.dataLossPercent / lossy[0]!.value;
  const points = 60;
  return Array.from({ length: points + 1 }, (_, i) => low * (high / low) ** (i / points)).flatMap((percent) => {
    const p = Math.min(1, (percent * scale) / 100);
    return [
      { x: percent, series: 'Mathis model', mbit: mathisBitsPerSecond(mss, (rttMs + added) / 1000, p) / 1e6 },
      { x: percent, series: 'RFC 5348 model', mbit: rfc5348BitsPerSecond(mss, (rttMs + added) / 1000, p, (rtoMs + added) / 1000) / 1e6 },
    ];
  });
}

/** The models at each step, where the step has them (a sweep of anything but loss, over a lossy profile). */
function modelPoints(result: SweepResult): { x: number; series: string; mbit: number }[] {
  return result.steps.flatMap((step) => [
    ...(step.tcp.upload.mathisMbitPerS !== null ? [{ x: step.value, series: 'Mathis model', mbit: step.tcp.upload.mathisMbitPerS }] : []),
    ...(step.tcp.upload.rfc5348MbitPerS !== null ? [{ x: step.value, series: 'RFC 5348 model', mbit: step.tcp.upload.rfc5348MbitPerS }] : []),
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

/** One HTML file with everything in it (the SVG inline, no script, no link): it opens anywhere, offline. */
export function sweepHtml(result: SweepResult, svg: string, table: string): string {
  const title = `TCP vs UDP: sweep of ${result.settings.sweep.text}`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>${escapeHtml(title)}: ${escapeHtml(result.startedAt)}</title>
<style>
  body { font-family: system-ui, sans-serif; margin: 2rem; color: #222; max-width: 90rem; }
  pre { background: #f6f6f6; padding: 1rem; overflow-x: auto; font-size: 0.8rem; }
  table.verdicts { border-collapse: collapse; font-size: 0.85rem; }
  table.verdicts td, table.verdicts th { border: 1px solid #ddd; padding: 0.2rem 0.5rem; text-align: right; }
  table.verdicts small { color: #666; }
  .inside { color: #2a7a36; }
  .outside { color: #c62828; font-weight: 600; }
  .lab { color: #6a4fb3; }
</style>
</head>
<body>
<h1>${escapeHtml(title)}</h1>
<p>${escapeHtml(result.lab.description)}.<br>
Impairment: ${escapeHtml(describeImpairment(result))}.
Run started ${escapeHtml(result.startedAt)}; the whole result is in the JSON file beside this page.</p>
${svg}
${verdictsSection(result)}
<h2>The numbers</h2>
<pre>${escapeHtml(table)}</pre>
${packetsSection(result)}
</body>
</html>
`;
}
