import { describeHeaders } from '@lab/runtime';
import type { SweepResult, SweepStep, TcpDirectionResult } from './sweep-result.ts';
import { deliveredPercent } from './sweep.ts';

const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(bytes >= 10 * 1024 * 1024 ? 0 : 1)} MiB`;
const mbit = (value: number | null) => (value === null ? '-' : value >= 100 ? `${Math.round(value)}` : value >= 1 ? value.toFixed(1) : value.toFixed(3));
const seconds = (ms: number) => `${(ms / 1000).toFixed(ms >= 10_000 ? 1 : 2)} s`;
const pct = (value: number) => {
  const rounded = Math.round(value * 100) / 100; // 9.999999999999998 (from 1 - 0.9) is 10
  return `${rounded.toFixed(rounded >= 10 || rounded === 0 ? 1 : 2)}%`;
};

/** Width of the TCP column, so that every step's blocks line up. */
const LEFT = 50;

/** Lays two columns side by side, the left one padded to a fixed width. */
function sideBySide(left: string[], right: string[]): string[] {
  const width = Math.max(LEFT, ...left.map((line) => line.length));
  return Array.from({ length: Math.max(left.length, right.length) }, (_, i) => `  ${(left[i] ?? '').padEnd(width)}  │ ${right[i] ?? ''}`.trimEnd());
}

function direction(name: string, d: TcpDirectionResult, ackLossPercent: number, ms: number, bytes: number): string[] {
  const detail =
    d.mathisMbitPerS !== null
      ? `data lost ${pct(d.dataLossPercent)}; Mathis ${mbit(d.mathisMbitPerS)}, RFC 5348 ${mbit(d.rfc5348MbitPerS)}`
      : d.dataLossPercent > 0
        ? `data lost ${pct(d.dataLossPercent)}`
        : ackLossPercent > 0
          ? `data not impaired, its ACKs lost ${pct(ackLossPercent)}`
          : 'not impaired';
  return [`${name.padEnd(9)}${mib(bytes)} in ${seconds(ms)}, ${mbit(d.measuredMbitPerS)} Mbit/s`, `  ${detail}`];
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
  return [
    head,
    // The upload's ACKs travel the way the download's data does, and the other way round.
    ...direction('upload', step.tcp.upload, step.tcp.download.dataLossPercent, tcp.uploadMs, tcp.bytes),
    ...direction('download', step.tcp.download, step.tcp.upload.dataLossPercent, tcp.downloadMs, tcp.downloaded.size),
    `sha256   ${tcp.identical ? 'IDENTICAL both ways' : 'MISMATCH'}`,
    `resent   ${resent}${server} (segments)`,
    tcp.connection ? `kernel   rtt ${tcp.connection.rttMs} ms, rto ${tcp.connection.rtoMs} ms, mss ${tcp.connection.mss} B` : 'kernel   no TCP_INFO',
    `headers  ${tcp.wire ? describeHeaders(tcp.wire, 'TCP') : 'not measured'}`,
  ];
}

function udpColumn(step: SweepStep): string[] {
  const { udp } = step.experiment;
  if ('error' in udp) return ['UDP', `FAILED: ${udp.error.code}`, ...wrap(udp.error.message, 60)];
  const lines = [`UDP: ${udp.modes[0]?.attempted ?? 0} datagrams of ${udp.datagramBytes} B at ${udp.rate}/s, nothing resent`];
  lines.push('mode       rcv   received    lost  expected (99% band)   dup reord late  jitter');
  for (const mode of udp.modes) {
    const expectation = step.udp.find((m) => m.mode === mode.mode);
    for (const r of mode.receivers) {
      const check = expectation?.receivers.find((c) => c.receiver === r.receiver);
      const band = check ? `${pct(expectation!.expectedLossPercent)} (${check.band99[0]}-${check.band99[1]})${check.withinBand ? '' : ' OUTSIDE'}` : '-';
      lines.push(
        `${(r.receiver === 1 ? mode.mode : '').padEnd(10)} ${String(r.receiver).padStart(3)}  ${`${r.unique}/${r.sent}`.padStart(9)}  ${pct(r.lossPercent).padStart(6)}  ${band.padEnd(20)} ${String(r.duplicates).padStart(3)} ${String(r.outOfOrder).padStart(5)} ${String(r.late).padStart(4)}  ${r.jitterMs.toFixed(3)} ms`,
      );
    }
  }
  const hostDrops = udp.modes.reduce((sum, m) => sum + (m.host ? m.host.rcvbufErrors : 0), 0);
  lines.push(`host drops (receive buffers full, not the network): ${hostDrops}`);
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
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  return line ? [...lines, line] : lines;
}

/** One block per step: TCP on the left, UDP on the right. */
export function formatStep(step: SweepStep, index: number, count: number): string {
  const head = `step ${index + 1}/${count}: loss ${pct(step.lossPercent)}${step.profile === 'none' ? '' : ` (profile: ${step.profile})`}, ${seconds(step.durationMs)}`;
  return [head, ...sideBySide(tcpColumn(step), udpColumn(step))].join('\n');
}

/** The whole sweep in one table: a row per step, TCP's cost in time beside UDP's cost in datagrams. */
export function formatSummary(result: SweepResult): string {
  const modes = result.settings.modes;
  const header = ['loss', 'TCP up Mbit/s', 'Mathis', 'RFC 5348', 'down Mbit/s', 'copy', ...modes.map((m) => `${m} %`), 'expected %'];
  const rows = result.steps.map((step) => {
    const { tcp, udp } = step.experiment;
    const copy = 'error' in tcp ? (tcp.error.code === 'LAB_ERR_DEADLINE' ? 'cut' : 'failed') : tcp.identical ? 'identical' : 'MISMATCH';
    const delivered = modes.map((mode) => {
      const measured = 'error' in udp ? undefined : udp.modes.find((m) => m.mode === mode);
      return measured ? deliveredPercent(measured.receivers).toFixed(1) : '-';
    });
    const expected = step.udp[0] ? (100 - step.udp[0].expectedLossPercent).toFixed(1) : '-';
    return [pct(step.lossPercent), mbit(step.tcp.upload.measuredMbitPerS), mbit(step.tcp.upload.mathisMbitPerS), mbit(step.tcp.upload.rfc5348MbitPerS), mbit(step.tcp.download.measuredMbitPerS), copy, ...delivered, expected];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]) => `  ${cells.map((cell, i) => cell.padStart(widths[i]!)).join('  ')}`;
  const link = result.models.link;
  const models = link ? `models with rtt ${Number(link.rttMs.toFixed(3))} ms, rto ${link.rtoMs} ms, mss ${link.mss} B (medians of the steps)` : 'no RTT measured: no models';
  return [`sweep: UDP delivered (each receiver counted), TCP goodput, and what the models predict (${models})`, line(header), ...rows.map(line)].join('\n');
}

/** Where the loss was, in one line; or, where the lab could not impair, why not. */
export function describeImpairment(result: SweepResult, { short = false } = {}): string {
  const { impairment } = result;
  if (!impairment) return short ? 'no impairment' : 'none: this lab has no network of its own to impair (see its limits)';
  const where = { in: 'into', out: 'out of', both: 'into and out of' }[impairment.direction];
  if (short) return `${impairment.backend}: loss on packets ${where} ${impairment.hosts.join(' and ')}`;
  const hops = `${impairment.udpPathHops} impaired point${impairment.udpPathHops === 1 ? '' : 's'}`;
  return `${impairment.backend} (${impairment.reason}), on packets ${where} ${impairment.hosts.join(' and ')}; a UDP datagram crosses ${hops}`;
}

export function formatSweep(result: SweepResult): string {
  return [
    `lab: ${result.lab.backend}: ${result.lab.description}`,
    `impairment: ${describeImpairment(result)}`,
    ...result.lab.limits.map((line) => `limit: ${line}`),
    ...result.lab.skipped.map((line) => `SKIPPED: ${line}`),
    '',
    ...result.steps.flatMap((step, i) => [formatStep(step, i, result.steps.length), '']),
    formatSummary(result),
    '',
    result.ok ? 'sweep: ok' : 'sweep: FAILED (see the steps above)',
    '',
  ].join('\n');
}
