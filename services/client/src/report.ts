import { chatWords, type ExperimentReport } from '@lab/results';
import { describeHeaders } from '@lab/host-counters';

const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(bytes >= 10 * 1024 * 1024 ? 0 : 1)} MiB`;
const ms = (value: number) => `${Math.round(value)} ms`;
const rate = (mbit: number) => `${mbit >= 100 ? Math.round(mbit) : mbit.toFixed(1)} Mbit/s`;
const yes = (ok: boolean) => (ok ? 'match' : 'MISMATCH');

function tcpLines(tcp: ExperimentReport['tcp'], target: string): string[] {
  const head = `TCP  file transfer with ${target} (connection, reliable ordered byte stream)`;
  if ('error' in tcp) return [head, `  FAILED        ${tcp.error.code}: ${tcp.error.message}`];
  return [
    head,
    `  file          ${mib(tcp.bytes)} of random bytes, sha256 ${tcp.sha256.slice(0, 12)}…`,
    `  upload        ${ms(tcp.uploadMs).padStart(8)}  ${rate(tcp.uploadMbitPerS).padStart(14)}   stored sha256 ${yes(tcp.stored.sha256 === tcp.sha256)}`,
    `  download      ${ms(tcp.downloadMs).padStart(8)}  ${rate(tcp.downloadMbitPerS).padStart(14)}   received sha256 ${yes(tcp.downloaded.sha256 === tcp.sha256)}, ${tcp.downloaded.size} bytes`,
    `  kernel        ${tcp.segments ? `${tcp.segments.out} segments sent, ${tcp.segments.retransmitted} retransmitted` : 'segment counters unavailable'}${tcp.connection ? `; rtt ${tcp.connection.rttMs} ms, mss ${tcp.connection.mss} B` : ''}`,
    `  headers       ${tcp.wire ? `${describeHeaders(tcp.wire, 'TCP')} (sent: ${tcp.wire.packets} packets, ${tcp.wire.wireBytes} bytes on the wire for ${tcp.wire.payloadBytes} written)` : 'not measured'}`,
    `  result        ${tcp.identical ? 'IDENTICAL: every byte arrived, in order' : 'DIFFERENT: the copy does not match the original'}`,
  ];
}

function udpLines(udp: ExperimentReport['udp'], target: string): string[] {
  if ('error' in udp) return [`UDP  datagrams through ${target}`, `  FAILED        ${udp.error.code}: ${udp.error.message}`];
  const lines = [`UDP  numbered datagrams of ${udp.datagramBytes} B at ${udp.rate}/s through ${target} (no connection, no retransmission)`];
  for (const mode of udp.modes) {
    const header = ['receiver', 'listening on', 'sent', 'received', 'lost', 'loss %', 'duplicated', 'reordered', 'late', 'jitter ms'];
    const rows = mode.receivers.map((r) => [
      String(r.receiver),
      r.listen,
      String(r.sent),
      String(r.received),
      String(r.lost),
      r.lossPercent.toFixed(2),
      String(r.duplicates),
      String(r.outOfOrder),
      String(r.late),
      r.jitterMs.toFixed(3),
    ]);
    const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
    const line = (cells: string[]) => `    ${cells.map((c, i) => (i < 2 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ')}`;
    const host = mode.host ? `host UDP receive-buffer drops ${mode.host.rcvbufErrors}, input errors ${mode.host.inErrors}` : 'host UDP counters unavailable';
    lines.push(
      `  ${mode.mode} (room ${mode.room}): ${mode.attempted} sent in ${ms(mode.sendMs)}, ${mode.sendErrors} send errors; ${host}`,
      line(header),
      ...rows.map(line),
    );
  }
  const wire = udp.modes.find((m) => m.wire)?.wire;
  lines.push(`  headers       ${wire ? `${describeHeaders(wire, 'UDP')} (sent: ${wire.packets} packets, ${wire.wireBytes} bytes on the wire for ${wire.payloadBytes} of datagrams)` : 'not measured'}`);
  lines.push('  what is lost stays lost: nothing is retransmitted');
  return lines;
}

function chatLines(chat: ExperimentReport['chat']): string[] {
  if (chat === null) return [];
  const head = 'CHAT the same numbered lines through TCP chat and UDP chat';
  if ('error' in chat) return ['', head, `  FAILED        ${chat.error.code}: ${chat.error.message}`];
  return ['', `${head}, one every ${chat.intervalMs} ms`, `  TCP           ${chatWords(chat, 'tcp')}`, `  UDP           ${chatWords(chat, 'udp')}`];
}

/** The side-by-side text a person reads at the end of a run. */
export function formatReport(report: ExperimentReport, targets: { tcp: string; udp: string }): string {
  return [
    ...tcpLines(report.tcp, targets.tcp),
    '',
    ...udpLines(report.udp, targets.udp),
    ...chatLines(report.chat),
    '',
    report.ok ? 'experiment: ok' : 'experiment: FAILED',
    '',
  ].join('\n');
}
