import type { LadderRetransmission, PacketCapture, SweepResult, SweepStep, SynOptions, TcpLadder, TcpSegment, UdpPackets } from '@lab/results';
import { escapeHtml } from '../html-text.ts';

/**
 * Each step's packets as the report draws them: the TCP connection as a ladder diagram (time runs down,
 * one arrow per segment from the side that sent it: the handshake with the options each side offered,
 * the first data, the segments sent again and why, the teardown), and beside it the UDP stream's first
 * datagrams, which have none of that. Plain SVG in the HTML: the report stays one offline file.
 */

const ROW = 32;
const TOP = 64;
const WIDTH = 720;
const LEFT_X = 150;
const RIGHT_X = 610;
const UDP_WIDTH = 430;
const UDP_LEFT = 110;
const UDP_RIGHT = 340;

const colours = { plain: '#333', handshake: '#1f5fa8', data: '#2b7a3d', 'duplicate-acks': '#d97a00', timeout: '#c0392b', teardown: '#6b3fa0', udp: '#555' } as const;

const ms = (value: number) => `${value < 10 ? value.toFixed(3) : value < 1000 ? value.toFixed(1) : value.toFixed(0)} ms`;
const count = (n: number) => n.toLocaleString('en-US');

function offered(options: SynOptions): string {
  const parts = [options.mss !== null ? `MSS ${options.mss}` : null, options.windowScale !== null ? `wscale ${options.windowScale}` : null, options.sackPermitted ? 'SACK' : null, options.timestamps ? 'timestamps' : null];
  return parts.filter(Boolean).join(', ') || 'no options';
}

/** One arrow across the ladder, from the sender's line to the receiver's, with its words above it. */
function arrow(y: number, from: 'left' | 'right', colour: string, label: string, time: string, dashed = false, [left, right] = [LEFT_X, RIGHT_X]): string {
  const [x1, x2] = from === 'left' ? [left, right] : [right, left];
  const tip = from === 'left' ? -1 : 1;
  return [
    `<text x="8" y="${y + 14}" font-size="10" fill="#777">${escapeHtml(time)}</text>`,
    `<line x1="${x1}" y1="${y}" x2="${x2}" y2="${y + 16}" stroke="${colour}" stroke-width="1.6"${dashed ? ' stroke-dasharray="5 3"' : ''}/>`,
    `<path d="M${x2},${y + 16} l${tip * 9},-6 l${tip * 1},7 z" fill="${colour}"/>`,
    `<text x="${(left + right) / 2}" y="${y - 2}" font-size="11" text-anchor="middle" fill="${colour}">${escapeHtml(label)}</text>`,
  ].join('');
}

const heading = (y: number, text: string, width = WIDTH) =>
  `<text x="${width / 2}" y="${y + 14}" font-size="11" font-style="italic" text-anchor="middle" fill="#555">${escapeHtml(text)}</text>`;

function segmentWords(segment: TcpSegment): string {
  const data = segment.len > 0 ? `, ${count(segment.len)} B of data` : '';
  return `${segment.flags.join(', ') || 'no flags'} seq ${count(segment.seq)}${segment.flags.includes('ACK') ? ` ack ${count(segment.ack)}` : ''}${data}, header ${segment.headerBytes} B`;
}

function resentWords(resent: LadderRetransmission): string {
  const why = resent.trigger === 'timeout' ? `timeout: ${ms(resent.silentMs)} of silence` : 'the ACKs said it was missing (duplicate ACKs, SACK)';
  return `sent again: seq ${count(resent.seq)}, ${count(resent.len)} B (${why})${resent.spurious ? ', needless' : ''}`;
}

/** The TCP ladder of one step, as SVG. */
export function tcpLadderSvg(ladder: TcpLadder): string {
  const rows: string[] = [];
  let y = TOP;
  const side = (segment: TcpSegment) => (segment.from === 'client' ? 'left' : 'right');
  const section = (text: string) => {
    rows.push(heading(y, text));
    y += ROW;
  };
  const add = (segment: TcpSegment, colour: string, label: string, dashed = false) => {
    rows.push(arrow(y, side(segment), colour, label, ms(segment.ms), dashed));
    y += ROW;
  };
  section('the three-way handshake: connect() on the left, accept() returns on the right (RFC 9293 section 3.5)');
  for (const segment of ladder.handshake) {
    const options = segment.flags.includes('SYN') ? ` · offers ${offered(segment.from === 'client' ? ladder.options.client : ladder.options.server)}` : '';
    add(segment, colours.handshake, `${segmentWords(segment)}${options}`);
  }
  section(`the first data (each data segment's header: ${ladder.dataHeaderBytes ?? '?'} B, with the timestamps option)`);
  for (const segment of ladder.firstData) add(segment, colours.data, segmentWords(segment));
  const { retransmissions: resent } = ladder;
  if (resent.total === 0) section('no segment was sent again');
  else {
    rows.push(heading(y - 10, `${count(resent.total)} segments sent again, ${count(resent.byClient)} by the client and ${count(resent.byServer)} by the server${resent.shown.length < resent.total ? `; ${resent.shown.length} drawn, the first of each kind` : ''}:`));
    y += 8;
    section(`${count(resent.duplicateAcks)} after the ACKs said one was missing, ${count(resent.timeout)} after a timeout; ${count(resent.spurious)} needless (the receiver had it)`);
  }
  for (const segment of resent.shown) add(segment, colours[segment.trigger], resentWords(segment), segment.trigger === 'timeout');
  section(ladder.closedFirstBy ? `the teardown: the ${ladder.closedFirstBy} closed first` : 'the capture ended before either side closed');
  for (const segment of ladder.teardown) add(segment, colours.teardown, segmentWords(segment));
  const height = y + 12;
  const ends = lifelines(height, [
    { x: LEFT_X, name: 'client', address: `${ladder.client.address}:${ladder.client.port} (ephemeral)` },
    { x: RIGHT_X, name: 'tcp-server', address: `${ladder.server.address}:${ladder.server.port} (listening)` },
  ]);
  return `<svg xmlns="http://www.w3.org/2000/svg" class="tcp-ladder" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="system-ui, sans-serif" role="img" aria-label="TCP ladder diagram">${ends}${rows.join('')}</svg>`;
}

/** The two ends of a diagram: each one's name and address at the top, and its vertical line down to `height`. */
function lifelines(height: number, ends: { x: number; name: string; address: string }[]): string {
  return ends
    .map(
      ({ x, name, address }) =>
        `<text x="${x}" y="20" font-size="12" font-weight="bold" text-anchor="middle">${escapeHtml(name)}</text>` +
        `<text x="${x}" y="36" font-size="11" text-anchor="middle">${escapeHtml(address)}</text>` +
        `<line x1="${x}" y1="${TOP - 8}" x2="${x}" y2="${height - 6}" stroke="#999" stroke-width="2"/>`,
    )
    .join('');
}

/** The UDP stream's first datagrams, as SVG: no handshake before, no ACK between, no teardown after. */
export function udpPacketsSvg(udp: UdpPackets): string {
  const rows: string[] = [];
  let y = TOP;
  const relay = udp.first[0]?.dst;
  const source = udp.first[0]?.src;
  rows.push(heading(y, 'no handshake: the first datagram already carries data', UDP_WIDTH));
  y += ROW;
  for (const datagram of udp.first) {
    rows.push(arrow(y, 'left', colours.udp, `datagram, ${count(datagram.bytes)} B`, ms(datagram.ms), false, [UDP_LEFT, UDP_RIGHT]));
    y += ROW;
  }
  rows.push(heading(y, 'no ACK comes back, and no FIN: the stream just stops', UDP_WIDTH));
  y += ROW;
  const height = y + 12;
  const ends = lifelines(height, [
    { x: UDP_LEFT, name: "client's sender", address: source ? `${source.address}:${source.port}` : '' },
    { x: UDP_RIGHT, name: 'udp-relay', address: relay ? `${relay.address}:${relay.port}` : '' },
  ]);
  return `<svg xmlns="http://www.w3.org/2000/svg" class="udp-packets" width="${UDP_WIDTH}" height="${height}" viewBox="0 0 ${UDP_WIDTH} ${height}" font-family="system-ui, sans-serif" role="img" aria-label="UDP datagrams">${ends}${rows.join('')}</svg>`;
}

/** One line on a step's capture: the file, its size, and what it holds. */
export function captureSummary(capture: PacketCapture): string {
  if ('unavailable' in capture) return `no packet capture: ${capture.unavailable}`;
  const size = `${(capture.bytes / 1e6).toFixed(2)} MB, ${capture.packets === null ? '?' : count(capture.packets)} packets of at most ${capture.snapLength} B${capture.dropped ? `, ${count(capture.dropped)} dropped by the capture` : ''}`;
  const tcp = capture.tcp
    ? `TCP ${capture.tcp.client.address}:${capture.tcp.client.port} → ${capture.tcp.server.address}:${capture.tcp.server.port}: ${count(capture.tcp.segments)} segments, ${count(capture.tcp.retransmissions.total)} sent again (${count(capture.tcp.retransmissions.duplicateAcks)} after the ACKs told, ${count(capture.tcp.retransmissions.timeout)} after a timeout)`
    : 'no TCP connection of the experiment in it';
  return `${capture.file} (${size}): ${tcp}; UDP ${count(capture.udp.sent)} datagrams out, ${count(capture.udp.received)} in${capture.error ? `; ${capture.error}` : ''}`;
}

/** Which step's packets are open when the report loads: the one whose connection sent the most segments again. */
function openStep(steps: readonly SweepStep[]): number {
  const resent = steps.map((step) => ('tcp' in step.capture && step.capture.tcp ? step.capture.tcp.retransmissions.total : 0));
  return resent.indexOf(Math.max(...resent));
}

/** The report's section on packets: for each step, its capture's file and, drawn, its ladder beside the UDP stream. */
export function packetsSection(result: SweepResult): string {
  const open = openStep(result.steps);
  const parts = result.steps.map((step, index) => {
    const { capture } = step;
    const title = `step ${index + 1}: ${result.settings.sweep.dimension} ${step.label}`;
    if ('unavailable' in capture) return `<p class="capture" data-step="${index + 1}"><b>${escapeHtml(title)}</b>: ${escapeHtml(captureSummary(capture))}</p>`;
    const drawings = capture.tcp ? `<div style="display:flex;gap:1.5rem;flex-wrap:wrap;align-items:flex-start">${tcpLadderSvg(capture.tcp)}${udpPacketsSvg(capture.udp)}</div>` : '';
    return `<details class="capture" data-step="${index + 1}"${index === open ? ' open' : ''}><summary><b>${escapeHtml(title)}</b>: <a href="${escapeHtml(encodeURIComponent(capture.file))}">${escapeHtml(capture.file)}</a></summary><p>${escapeHtml(captureSummary(capture))}. Open it with <code>wireshark</code> or <code>tshark -r</code>.</p>${drawings}</details>`;
  });
  return `<h2>The packets</h2>
<p>Each step captured the client's lab interface (headers only). The ladder is the experiment's TCP connection as tshark reads it: time runs down, each arrow a segment from the side that sent it; dashed red: sent again after a timeout, orange: after the ACKs said it was missing. Beside it, the UDP stream.</p>
${parts.join('\n')}`;
}
