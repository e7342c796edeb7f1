import { describeHeaders } from '@lab/host-counters';
import { deliveredPercent, describeImpairment, tcpOutcome, tcpOutcomeWords } from './sweep-outcome.ts';
import { chatWords, type ExpectedFigure, type StreamPacing, type SweepCalibration, type SweepDimension, type SweepResult, type SweepStep, type TcpDirectionResult, type UdpModeCheck, type Verdict } from '@lab/results';
import { VERDICT_LEGEND, verdictMark } from './udp-figures.ts';

const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(bytes >= 10 * 1024 * 1024 ? 0 : 1)} MiB`;
const mbit = (value: number | null) => (value === null ? '-' : value >= 100 ? `${Math.round(value)}` : value >= 1 ? value.toFixed(1) : value.toFixed(3));
const seconds = (ms: number) => `${(ms / 1000).toFixed(ms >= 10_000 ? 1 : 2)} s`;
const milliseconds = (ms: number) => (ms >= 100 ? ms.toFixed(0) : ms >= 10 ? ms.toFixed(1) : ms.toFixed(2));
const pct = (value: number) => {
  const rounded = Math.round(value * 100) / 100; // 9.999999999999998 (from 1 - 0.9) is 10
  return `${rounded.toFixed(rounded >= 10 || rounded === 0 ? 1 : 2)}%`;
};
const range = ([low, high]: [number, number], digits = 0) => (low === high ? low.toFixed(digits) : `${low.toFixed(digits)}-${high.toFixed(digits)}`);

/** Width of the TCP column, so that every step's blocks line up. */
const LEFT = 62;

/** Lays two columns side by side, the left one padded to a fixed width. */
function sideBySide(left: string[], right: string[]): string[] {
  const width = Math.max(LEFT, ...left.map((line) => line.length));
  return Array.from({ length: Math.max(left.length, right.length) }, (_, i) => `  ${(left[i] ?? '').padEnd(width)}  │ ${right[i] ?? ''}`.trimEnd());
}

const marked = (verdict: Verdict | null) => (verdict ? ` ${verdictMark[verdict]}` : '');

/** What one TCP direction met: its data's path and its ACKs' path, and what the models predict. */
function direction(name: string, d: TcpDirectionResult, ms: number, bytes: number, goodput: Verdict | null): string[] {
  const lines = [`${name.padEnd(9)}${mib(bytes)} in ${seconds(ms)}, ${mbit(d.measuredMbitPerS)} Mbit/s${marked(goodput)}`];
  if (!d.dataImpairment && !d.ackImpairment) return [...lines, '  not impaired'];
  const met = (impairment: string | null, lost: number) => (impairment ? `${impairment}${lost > 0 ? ` (${pct(lost)} lost)` : ''}` : 'not impaired');
  lines.push(...wrap(`data: ${met(d.dataImpairment, d.dataLossPercent)}`, LEFT - 2).map((line) => `  ${line}`));
  lines.push(...wrap(`ACKs: ${met(d.ackImpairment, d.ackLossPercent)}`, LEFT - 2).map((line) => `  ${line}`));
  if (d.mathisMbitPerS !== null) lines.push(`  models: Mathis ${mbit(d.mathisMbitPerS)}, RFC 5348 ${mbit(d.rfc5348MbitPerS)}`);
  if (d.rateLimitMbitPerS !== null) {
    const whose = goodput === 'lab' ? ": more than the lab itself carries (its calibration), so the lab's own CPU sets the pace" : '';
    lines.push(...wrap(`the rate lets through at most ${mbit(d.rateLimitMbitPerS)} Mbit/s${whose}`, LEFT - 2).map((line) => `  ${line}`));
  }
  return lines;
}

function tcpColumn(step: SweepStep): string[] {
  const { tcp } = step.experiment;
  const head = 'TCP: one connection, every byte or nothing';
  if ('error' in tcp) {
    const text = tcp.error.code === 'LAB_ERR_DEADLINE' ? 'DID NOT COMPLETE' : 'FAILED';
    return [head, `${text}: ${tcp.error.code}`, ...wrap(tcp.error.message, 44)];
  }
  const resent = tcp.segments ? `${tcp.segments.retransmitted} by the client` : 'client: no counters';
  const server = step.serverRetransmittedSegments === null ? '' : `, ${step.serverRetransmittedSegments} by the server`;
  const { expectedRttMs, addedRttMs } = step.tcp;
  const expectation = expectedRttMs !== null && addedRttMs !== null && addedRttMs > 0 ? ` (expected ${milliseconds(expectedRttMs)})${marked(step.tcp.verdicts.rtt)}` : '';
  const idle = tcp.idleRttMs === null ? '' : `${milliseconds(tcp.idleRttMs)} ms idle${expectation}, `;
  return [
    head,
    ...direction('upload', step.tcp.upload, tcp.uploadMs, tcp.bytes, step.tcp.verdicts.uploadGoodput),
    ...direction('download', step.tcp.download, tcp.downloadMs, tcp.downloaded.size, step.tcp.verdicts.downloadGoodput),
    `sha256   ${tcp.identical ? 'IDENTICAL both ways' : 'MISMATCH'}`,
    `resent   ${resent}${server} (segments)`,
    ...(tcp.connection ? [`kernel   rtt ${idle}${milliseconds(tcp.connection.rttMs)} ms loaded`, `         rto ${tcp.connection.rtoMs} ms, mss ${tcp.connection.mss} B`] : ['kernel   no TCP_INFO']),
    `headers  ${tcp.wire ? describeHeaders(tcp.wire, 'TCP') : 'not measured'}`,
  ];
}

const figure = (value: ExpectedFigure | null, digits = 0) => (value ? `${value.mean.toFixed(digits)} (${range(value.band99, digits)})` : '0');

/** How evenly the sender's datagrams left, from the capture: gaps between sends against the nominal one. */
const pacingWords = (pacing: StreamPacing) =>
  `${pacing.mode}: gaps p1 ${pacing.p1.toFixed(2)}, p50 ${pacing.p50.toFixed(2)}, p99 ${pacing.p99.toFixed(2)} ms (nominal ${pacing.nominalMs.toFixed(2)}), ${pacing.bursts} under half`;

function udpColumn(step: SweepStep): string[] {
  const { udp } = step.experiment;
  if ('error' in udp) return ['UDP', `FAILED: ${udp.error.code}`, ...wrap(udp.error.message, 60)];
  const lines = [`UDP: ${udp.modes[0]?.attempted ?? 0} datagrams of ${udp.datagramBytes} B at ${udp.rate}/s, nothing resent`];
  lines.push('mode       rcv   received    lost    expected (99% band)   dup (99% band)   reord    late   jitter');
  for (const mode of udp.modes) {
    const check = step.udp.find((m) => m.mode === mode.mode);
    for (const r of mode.receivers) {
      const c = check?.receivers.find((candidate) => candidate.receiver === r.receiver);
      const v = c?.verdicts;
      const mark = (verdict: Verdict | undefined) => (verdict ? verdictMark[verdict] : ' ');
      const lost = c ? `${pct(check!.expectedLossPercent)} (${range(check!.expected.lost.band99)})` : '-';
      const dup = `${String(r.duplicates).padStart(3)} ${mark(v?.duplicates)} (${range(check?.expected.duplicates.band99 ?? [0, 0])})`;
      lines.push(
        `${(r.receiver === 1 ? mode.mode : '').padEnd(10)} ${String(r.receiver).padStart(3)}  ${`${r.unique}/${r.sent}`.padStart(9)}  ${pct(r.lossPercent).padStart(6)} ${mark(v?.lost)}  ${lost.padEnd(20)} ${dup.padEnd(15)} ${String(r.outOfOrder).padStart(5)} ${mark(v?.outOfOrder)} ${String(r.late).padStart(5)} ${mark(v?.late)}  ${r.jitterMs.toFixed(3)} ms ${mark(v?.jitter)}`,
      );
    }
    if (check) {
      const e = check.expected;
      if (check.outOfOrder) lines.push(`           expected per receiver: reordered ${figure(e.outOfOrder)}, late ${figure(e.late)}, jitter ${figure(e.jitterMs, 2)} ms`);
      if (check.labOwn) {
        const own = check.labOwn;
        lines.push(`           the lab's own: reordered ${own.outOfOrder}, late ${own.late}, jitter ${own.jitterMs.toFixed(2)} ms (up to ${own.jitterHighMs.toFixed(2)}), lost ${own.lost}`);
      }
    }
  }
  lines.push(...wrap(VERDICT_LEGEND, 64));
  if (step.udp.some((m) => m.timingDistortedByLab)) lines.push(`at ${udp.rate}/s this lab's own CPU shapes jitter and lateness (~): not the network's`);
  const simulated = step.udp.find((m) => m.trials > 0);
  if (simulated?.method === 'simulated') lines.push(`bands: from ${simulated.trials} runs of netem's own algorithm (its memory has no closed form)`);
  else if (simulated) lines.push(`reordered, late, jitter: from ${simulated.trials} runs of netem's own algorithm`);
  const hostDrops = udp.modes.reduce((sum, m) => sum + (m.host ? m.host.rcvbufErrors : 0), 0);
  lines.push(`host drops (receive buffers full, not the network): ${hostDrops}`);
  for (const pacing of step.pacing) lines.push(`sent     ${pacingWords(pacing)}`);
  const wire = udp.modes.find((m) => m.wire)?.wire;
  lines.push(`headers  ${wire ? describeHeaders(wire, 'UDP') : 'not measured'} (textbook: UDP 8, TCP 20-60)`);
  return lines;
}

function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line && line.length + word.length + 1 > width) {
      lines.push(line);
      line = `  ${word}`;
    } else line = line ? `${line} ${word}` : word;
  }
  return line ? [...lines, line] : lines;
}

/** The chat contrast under the block, one line per transport; and where the step's packets are. */
function chatAndPackets(step: SweepStep): string[] {
  const { chat } = step.experiment;
  const lines: string[] = [];
  if (chat && 'error' in chat) lines.push(`  chat     ${chat.error.code}: ${chat.error.message}`);
  else if (chat) {
    lines.push(`  chat     ${chat.lines} numbered lines, one every ${chat.intervalMs} ms, through both at once:`);
    lines.push(`           TCP ${chatWords(chat, 'tcp')}`, `           UDP ${chatWords(chat, 'udp')}`);
  }
  if ('file' in step.capture) {
    const resent = step.capture.tcp?.retransmissions;
    lines.push(`  packets  ${step.capture.file}${resent ? `: TCP sent ${resent.total} segments again (${resent.duplicateAcks} after the ACKs told, ${resent.timeout} after a timeout)` : ''}`);
  }
  return lines;
}

/** One block per step: TCP on the left, UDP on the right; under them, the chat and the packets. */
export function formatStep(step: SweepStep, index: number, count: number, dimension: SweepDimension): string {
  const head = `step ${index + 1}/${count}: ${dimension} ${step.label}${step.profile === 'none' ? '' : ` (profile: ${step.profile})`}, ${seconds(step.durationMs)}`;
  return [head, ...(step.note ? [`  ${step.note}`] : []), ...sideBySide(tcpColumn(step), udpColumn(step)), ...chatAndPackets(step)].join('\n');
}

const share = (count: number, sent: number) => (sent === 0 ? 0 : (100 * count) / sent);

/** Per mode: the mean share of `pick` over its receivers, in percent of sent. */
function modeShare(step: SweepStep, mode: string, pick: (r: { outOfOrder: number; duplicates: number; sent: number }) => number): string {
  const { udp } = step.experiment;
  const measured = 'error' in udp ? undefined : udp.modes.find((m) => m.mode === mode);
  if (!measured || measured.receivers.length === 0) return '-';
  return (measured.receivers.reduce((sum, r) => sum + share(pick(r), r.sent), 0) / measured.receivers.length).toFixed(1);
}

/** An expectation over the modes: one number where they agree, the range where they differ (broadcast's own copies pass the relay's way in). */
function acrossModes(step: SweepStep, value: (check: UdpModeCheck) => number | null): string {
  const values = step.udp.map(value).filter((v): v is number => v !== null);
  if (values.length === 0) return '-';
  const [low, high] = [Math.min(...values), Math.max(...values)];
  return high - low < 0.05 ? low.toFixed(1) : `${low.toFixed(1)}-${high.toFixed(1)}`;
}

const reorderedShare = (check: UdpModeCheck) => share(check.outOfOrder?.mean ?? 0, check.receivers[0]?.sent ?? 0);

/**
 * The whole sweep in one table: a row per step, the swept value first, TCP's cost in time beside UDP's
 * cost in datagrams; duplicated and reordered datagrams and the RTT where the profile makes them.
 */
export function formatSummary(result: SweepResult): string {
  const { modes, sweep } = result.settings;
  const steps = result.steps;
  // The models of the direction whose data meets the loss: the upload's into the servers, the download's out of them.
  const modelled = steps.some((s) => s.tcp.upload.mathisMbitPerS !== null) ? 'upload' : steps.some((s) => s.tcp.download.mathisMbitPerS !== null) ? 'download' : null;
  const withRtt = steps.some((s) => (s.tcp.addedRttMs ?? 0) > 0);
  const withDuplicates = steps.some((s) => s.udp.some((m) => m.expectedDuplicatePercent > 0 || m.receivers.some((r) => r.duplicates > 0)));
  const withReordering = steps.some((s) => s.udp.some((m) => (m.outOfOrder?.mean ?? 0) >= 0.5) || ('error' in s.experiment.udp ? false : s.experiment.udp.modes.some((m) => m.receivers.some((r) => r.outOfOrder > 0))));
  type Column = [string, (step: SweepStep) => string];
  const perMode = (title: (mode: string) => string, cell: (step: SweepStep, mode: string) => string) => modes.map((mode): Column => [title(mode), (step) => cell(step, mode)]);
  const delivered = (step: SweepStep, mode: string) => {
    const { udp } = step.experiment;
    const measured = 'error' in udp ? undefined : udp.modes.find((m) => m.mode === mode);
    return measured ? deliveredPercent(measured.receivers).toFixed(1) : '-';
  };
  const rttOf = (step: SweepStep) => {
    const { tcp } = step.experiment;
    const rtt = 'error' in tcp ? null : (tcp.idleRttMs ?? tcp.connection?.rttMs ?? null);
    return rtt === null ? '-' : milliseconds(rtt);
  };
  const columns: Column[] = [
    [`${sweep.dimension} ${sweep.unit}`, (step) => String(Number(step.value.toPrecision(4)))],
    ['TCP up Mbit/s', (step) => mbit(step.tcp.upload.measuredMbitPerS)],
    ...(modelled === 'upload' ? ([['Mathis', (step) => mbit(step.tcp.upload.mathisMbitPerS)], ['RFC 5348', (step) => mbit(step.tcp.upload.rfc5348MbitPerS)]] satisfies Column[]) : []),
    ['down Mbit/s', (step) => mbit(step.tcp.download.measuredMbitPerS)],
    ...(modelled === 'download' ? ([['Mathis', (step) => mbit(step.tcp.download.mathisMbitPerS)], ['RFC 5348', (step) => mbit(step.tcp.download.rfc5348MbitPerS)]] satisfies Column[]) : []),
    ['copy', (step) => tcpOutcomeWords[tcpOutcome(step)].short],
    ...(withRtt ? ([['idle rtt ms', rttOf], ['expected', (step) => (step.tcp.expectedRttMs === null ? '-' : milliseconds(step.tcp.expectedRttMs))]] satisfies Column[]) : []),
    ...perMode((mode) => `${mode} %`, delivered),
    ['expected %', (step) => acrossModes(step, (check) => 100 - check.expectedLossPercent)],
    ...(withDuplicates
      ? [...perMode((mode) => `dup ${mode.slice(0, 5)} %`, (step, mode) => modeShare(step, mode, (r) => r.duplicates)), ['dup exp %', (step) => acrossModes(step, (check) => check.expectedDuplicatePercent)] satisfies Column]
      : []),
    ...(withReordering
      ? [...perMode((mode) => `reord ${mode.slice(0, 5)} %`, (step, mode) => modeShare(step, mode, (r) => r.outOfOrder)), ['reord exp %', (step) => acrossModes(step, reorderedShare)] satisfies Column]
      : []),
  ];
  const header = columns.map(([title]) => title);
  const rows = steps.map((step) => columns.map(([, cell]) => cell(step)));
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]) => `  ${cells.map((cell, i) => cell.padStart(widths[i]!)).join('  ')}`;
  const link = result.models.link;
  const models = link
    ? `the link's own rtt ${Number(link.rttMs.toFixed(3))} ms, rto ${Number(link.rtoMs.toFixed(0))} ms, mss ${link.mss} B (medians of the steps, the profile's delay taken off)`
    : steps.some((s) => s.tcp.addedRttMs === null)
      ? 'no TCP models: under rate or reorder the delay of a round trip is not fixed (queued, or delayed or not), so the link\'s own RTT cannot be told apart'
      : 'no RTT measured: no TCP models';
  return [`sweep of ${sweep.text}: UDP delivered (each receiver counted), TCP goodput, and what netem and the models predict (${models})`, line(header), ...rows.map(line)].join('\n');
}


/**
 * The calibration: the lab measuring itself, nothing impaired, before the first step. Its figures are the
 * lab's own part of every step's (the `~` and the bands beside each figure).
 */
export function formatCalibration(calibration: SweepCalibration): string {
  const { tcp, udp } = calibration.experiment;
  const lines = [`calibration: the lab measuring itself, nothing impaired, the same file and streams (${seconds(calibration.durationMs)}): its own part of every figure below`];
  if ('error' in tcp) lines.push(`  TCP  ${tcp.error.code}: ${tcp.error.message}`);
  else lines.push(`  TCP  upload ${mbit(tcp.uploadMbitPerS)} Mbit/s, download ${mbit(tcp.downloadMbitPerS)} Mbit/s, idle rtt ${tcp.idleRttMs === null ? '-' : milliseconds(tcp.idleRttMs)} ms: the most this lab carries`);
  if ('error' in udp) lines.push(`  UDP  ${udp.error.code}: ${udp.error.message}`);
  else {
    for (const mode of udp.modes) {
      const most = (pick: (r: (typeof mode.receivers)[number]) => number) => Math.max(0, ...mode.receivers.map(pick));
      lines.push(
        `  UDP  ${mode.mode.padEnd(9)} at ${udp.rate}/s: jitter ${most((r) => r.jitterP50Ms).toFixed(3)} ms most of the time, up to ${most((r) => r.jitterP99Ms).toFixed(3)}; ${most((r) => r.outOfOrder)} reordered, ${most((r) => r.late)} late, ${most((r) => r.lost)} lost, ${most((r) => r.duplicates)} duplicated (the most of any receiver)`,
      );
    }
  }
  for (const pacing of calibration.pacing) lines.push(`  sent ${pacingWords(pacing)}`);
  return lines.join('\n');
}

/** Every figure outside its band, or a line that says there is none. */
function formatOutside(result: SweepResult): string[] {
  if (result.outside.length === 0) return ['outside their 99% band: none'];
  return [`outside their 99% band (${result.outside.length}; a correct lab puts about one count in a hundred there by chance):`, ...result.outside.map((line) => `  ${line}`)];
}

export function formatSweep(result: SweepResult): string {
  const dimension = result.settings.sweep.dimension;
  return [
    `lab: ${result.lab.backend}: ${result.lab.description}`,
    `impairment: ${describeImpairment(result)}`,
    ...result.lab.limits.map((line) => `limit: ${line}`),
    ...result.lab.skipped.map((line) => `SKIPPED: ${line}`),
    '',
    ...(result.calibration ? [formatCalibration(result.calibration), ''] : []),
    ...result.steps.flatMap((step, i) => [formatStep(step, i, result.steps.length, dimension), '']),
    formatSummary(result),
    '',
    ...formatOutside(result),
    '',
    result.ok ? 'sweep: ok' : 'sweep: FAILED (see the steps above)',
    '',
  ].join('\n');
}
