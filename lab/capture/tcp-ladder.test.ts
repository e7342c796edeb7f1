import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { packetCaptureSchema } from '@lab/results';
import { flagNames, parseTsharkFields } from './captured-frame.ts';
import { parseDumpcapSummary } from './dumpcap.ts';
import { RTO_MIN_MS, tcpLadder, udpPackets } from './tcp-ladder.ts';
import { captureSummary, tcpLadderSvg, udpPacketsSvg } from './ladder-svg.ts';

// Part of a real capture: the namespaces lab, loss 10% into the servers, read by tshark 4.0 with
// TSHARK_FIELDS: the handshake and first data with fast retransmissions (frames 1-80), a retransmission
// timeout (frame 200), the teardown, and the first UDP datagrams.
const fixture = readFileSync(join(import.meta.dirname, '../fixtures/capture-loss-10.tsv'), 'utf8');
const CLIENT_PORT = 52972;

describe('reading tshark fields', () => {
  it('reads every line of a real capture, and refuses and counts lines that are not its fields', () => {
    const { frames, refused } = parseTsharkFields(fixture);
    assert.equal(refused, 0);
    assert.equal(frames.length, 147);
    const hostile = parseTsharkFields(`${fixture}\nnot\ta\tframe\n1\tNaN\n\u001b[2J\n`);
    assert.equal(hostile.frames.length, 147);
    assert.equal(hostile.refused, 3);
  });

  it('names the flags of tshark\'s flag string, connection flags first', () => {
    assert.deepEqual(flagNames('·······A·S··'.replace(/·/g, '\u00b7')), ['SYN', 'ACK']);
    assert.deepEqual(flagNames('\u00b7\u00b7\u00b7\u00b7\u00b7\u00b7\u00b7AP\u00b7\u00b7F'), ['FIN', 'PSH', 'ACK']);
    assert.deepEqual(flagNames(''), []);
  });

  it("reads dumpcap's closing count, and says nothing where it said nothing", () => {
    const said = "Capturing on 'eth0'\nFile: /x.pcapng\nPackets captured: 12036\nPackets received/dropped on interface 'eth0': 12036/3 (pcap:0/dumpcap:0/flushed:0/ps_ifdrop:0) (0.0%)\n";
    assert.deepEqual(parseDumpcapSummary(said), { packets: 12036, dropped: 3 });
    assert.deepEqual(parseDumpcapSummary('dumpcap: killed'), { packets: null, dropped: null });
    // An interface's description can hold a colon.
    assert.deepEqual(parseDumpcapSummary("Packets received/dropped on interface 'Loopback: lo': 7/0 (pcap:0/dumpcap:0/flushed:0/ps_ifdrop:0) (0.0%)"), { packets: 7, dropped: 0 });
  });
});

describe('the TCP ladder of a capture', () => {
  const { frames } = parseTsharkFields(fixture);
  const ladder = tcpLadder(frames, CLIENT_PORT)!;

  it('names the client by its SYN: its address and ephemeral port, and the server on its listening port', () => {
    assert.deepEqual(ladder.client, { address: '10.213.47.4', port: CLIENT_PORT });
    assert.deepEqual(ladder.server, { address: '10.213.47.2', port: 9000 });
  });

  it('draws the handshake with the options each side offered, and so the header size each packet had', () => {
    assert.deepEqual(
      ladder.handshake.map((segment) => [segment.from, segment.flags.join(' '), segment.seq, segment.ack, segment.headerBytes]),
      [
        ['client', 'SYN', 0, 0, 40],
        ['server', 'SYN ACK', 0, 1, 40],
        ['client', 'ACK', 1, 1, 32],
      ],
    );
    assert.deepEqual(ladder.options.client, { mss: 1460, windowScale: 10, sackPermitted: true, timestamps: true });
    assert.deepEqual(ladder.options.server, ladder.options.client);
    assert.equal(ladder.dataHeaderBytes, 32, 'data segments carry the 12-byte timestamps option: 20 + 12');
    assert.equal(ladder.firstData.length, 4);
    assert.equal(ladder.firstData[0]!.from, 'client');
  });

  it('tells a retransmission the ACKs asked for from one a timer sent', () => {
    const { retransmissions } = ladder;
    assert.equal(retransmissions.total, 11);
    assert.equal(retransmissions.byClient, 11);
    assert.equal(retransmissions.duplicateAcks, 10);
    assert.equal(retransmissions.timeout, 1);
    const timeout = retransmissions.shown.find((segment) => segment.trigger === 'timeout')!;
    assert.equal(timeout.frame, 200);
    assert.ok(timeout.silentMs >= RTO_MIN_MS, `${timeout.silentMs} ms of silence before it`);
    assert.ok(timeout.sinceOriginalMs! >= RTO_MIN_MS);
    assert.ok(retransmissions.shown.filter((segment) => segment.trigger === 'duplicate-acks').every((segment) => segment.silentMs < 1));
  });

  it('draws the teardown and says who closed first', () => {
    assert.deepEqual(
      ladder.teardown.map((segment) => [segment.from, segment.flags.join(' ')]),
      [
        ['client', 'FIN ACK'],
        ['server', 'FIN ACK'],
        ['client', 'ACK'],
      ],
    );
    assert.equal(ladder.closedFirstBy, 'client');
  });

  it("picks the experiment's connection by the client's port, and the busiest one where the port is not known", () => {
    // A second, shorter connection from another port, as the sweep's warm-up `list` makes one.
    const other = fixture
      .split('\n')
      .slice(0, 12)
      .map((line) => line.split('\t').map((field, index) => (index === 4 ? '1' : field === String(CLIENT_PORT) ? '40000' : field)).join('\t'))
      .join('\n');
    const both = parseTsharkFields(`${other}\n${fixture}`).frames;
    assert.equal(tcpLadder(both, 40000)!.client.port, 40000);
    assert.equal(tcpLadder(both, CLIENT_PORT)!.client.port, CLIENT_PORT);
    assert.equal(tcpLadder(both, null)!.client.port, CLIENT_PORT);
    assert.equal(tcpLadder(both, CLIENT_PORT)!.otherConnections, 1);
    assert.equal(tcpLadder(both, 1234), null, 'no connection from that port: no ladder rather than a wrong one');
    assert.equal(tcpLadder([], null), null);
  });

  it("gives the UDP stream's first datagrams: from one sender to the relay, with nothing back", () => {
    const udp = udpPackets(frames, ladder.client.address);
    assert.equal(udp.sent + udp.received, frames.filter((frame) => frame.udp).length);
    assert.ok(udp.first.length > 0);
    assert.ok(udp.first.every((datagram) => datagram.src.address === '10.213.47.4' && datagram.src.port === udp.first[0]!.src.port && datagram.dst.port === 9001));
  });

  it('takes packets stamped out of order (several CPUs) as they are: no negative silence, a time below the one before kept as stamped', () => {
    // Frame 200 (the timeout) stamped a hair before the frame that came before it.
    const rows = fixture.split('\n').map((line) => line.split('\t'));
    const at = rows.findIndex((row) => row[0] === '200');
    rows[at]![1] = String(Number(rows[at - 1]![1]) - 0.000002);
    rows[0]![1] = '-0.000001';
    const { frames: skewed, refused } = parseTsharkFields(rows.map((row) => row.join('\t')).join('\n'));
    assert.equal(refused, 0, 'no frame is dropped for its stamp');
    const read = tcpLadder(skewed, CLIENT_PORT)!;
    assert.ok(read.retransmissions.shown.every((segment) => segment.silentMs >= 0));
    assert.equal(read.handshake[0]!.ms, -0.001);
    assert.ok(packetCaptureSchema.safeParse({ file: 'x.pcapng', bytes: 1, snapLength: 96, packets: 1, dropped: 0, tcp: read, udp: udpPackets(skewed, null), error: null }).success);
  });

  it('fits the sweep result\'s contract, and draws it with every port and trigger in words', () => {
    const capture = packetCaptureSchema.parse({ file: 'sweep-x-step-2.pcapng', bytes: 1_600_000, snapLength: 96, packets: 12_816, dropped: 0, tcp: ladder, udp: udpPackets(frames, null), error: null });
    const svg = tcpLadderSvg(ladder);
    assert.match(svg, /10\.213\.47\.4:52972 \(ephemeral\)/);
    assert.match(svg, /10\.213\.47\.2:9000 \(listening\)/);
    assert.match(svg, /offers MSS 1460, wscale 10, SACK, timestamps/);
    assert.match(svg, /timeout: 207\.\d ms of silence/);
    assert.match(svg, /the client closed first/);
    assert.match(udpPacketsSvg(udpPackets(frames, null)), /no handshake/);
    assert.match(captureSummary(capture), /11 sent again \(10 after the ACKs told, 1 after a timeout\)/);
  });
});
