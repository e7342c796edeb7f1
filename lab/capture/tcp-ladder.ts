import { LADDER_LIMITS, type LadderRetransmission, type SynOptions, type TcpLadder, type TcpSegment, type UdpPackets } from '@lab/results';
import type { CapturedFrame, CapturedTcp } from './captured-frame.ts';

/**
 * Linux's lowest retransmission timeout (TCP_RTO_MIN, include/net/tcp.h: HZ/5). A segment sent again
 * after at least this long with nothing heard on the connection was sent because a timer ran out.
 */
export const RTO_MIN_MS = 200;

type TcpFrame = CapturedFrame & { tcp: CapturedTcp };

const isSyn = (tcp: CapturedTcp) => tcp.flags.includes('SYN') && !tcp.flags.includes('ACK');
const closes = (tcp: CapturedTcp) => tcp.flags.includes('FIN') || tcp.flags.includes('RST');

/**
 * Which connection of the capture is the experiment's: the one whose SYN came from the client's port
 * (the client reports it), or, where the port is not known, the busiest one that began in the capture.
 */
function experimentConnection(frames: readonly TcpFrame[], clientPort: number | null): { stream: TcpFrame[]; others: number } | null {
  const streams = new Map<number, TcpFrame[]>();
  for (const frame of frames) {
    const list = streams.get(frame.tcp.stream) ?? [];
    list.push(frame);
    streams.set(frame.tcp.stream, list);
  }
  const opened = [...streams.values()].filter((list) => list.some((frame) => isSyn(frame.tcp)));
  const byPort = clientPort === null ? undefined : opened.find((list) => list.some((frame) => isSyn(frame.tcp) && frame.tcp.srcPort === clientPort));
  const chosen = byPort ?? (clientPort === null ? opened.sort((a, b) => b.length - a.length)[0] : undefined);
  return chosen ? { stream: chosen, others: streams.size - 1 } : null;
}

function synOptions(tcp: CapturedTcp | undefined): SynOptions {
  return { mss: tcp?.mss ?? null, windowScale: tcp?.windowScale ?? null, sackPermitted: tcp?.sackPermitted ?? false, timestamps: tcp?.timestamps ?? false };
}

/** How many of the other side's latest frames may have told of the loss (an ACK that advances can come between). */
const EVIDENCE_FRAMES = 3;

/**
 * Why a segment went again (see retransmissionTriggers): after RTO_MIN_MS of silence, a timer; else,
 * when tshark saw a fast retransmission, or one of the other side's latest frames was a duplicate ACK or
 * carried SACK blocks (RFC 2018, and RACK's time-based reading of them, RFC 8985), the ACKs; else a
 * timer too (a tail-loss probe fires after about two RTTs of silence, RFC 8985 section 7.2).
 */
function triggerOf(frame: TcpFrame, silentMs: number, fromOther: readonly TcpFrame[]): LadderRetransmission['trigger'] {
  if (silentMs >= RTO_MIN_MS) return 'timeout';
  return frame.tcp.fastRetransmission || fromOther.some((other) => other.tcp.duplicateAck || other.tcp.sack) ? 'duplicate-acks' : 'timeout';
}

/**
 * The retransmissions to draw: the first ones the ACKs asked for and the first ones a timer sent, half
 * the room each (the rest to the other kind when one has fewer), in the order they went: a lossy step
 * has hundreds of the first kind before its first timeout.
 */
function firstOfEachTrigger(all: readonly LadderRetransmission[]): LadderRetransmission[] {
  const limit = LADDER_LIMITS.retransmissions;
  const byTimer = all.filter((resent) => resent.trigger === 'timeout');
  const byAcks = all.filter((resent) => resent.trigger === 'duplicate-acks').slice(0, Math.max(limit / 2, limit - byTimer.length));
  return [...byAcks, ...byTimer.slice(0, limit - byAcks.length)].sort((a, b) => a.frame - b.frame);
}

/**
 * The experiment's TCP connection, as a ladder diagram reads it: the handshake and the options each side
 * offered, the first data, every retransmission with its trigger, and the teardown. Null where the capture
 * holds no connection that began in it (the SYN is what names the client and the server).
 */
export function tcpLadder(frames: readonly CapturedFrame[], clientPort: number | null): TcpLadder | null {
  const tcpFrames = frames.filter((frame): frame is TcpFrame => frame.tcp !== null);
  const found = experimentConnection(tcpFrames, clientPort);
  if (!found) return null;
  const { stream } = found;
  const syn = stream.find((frame) => isSyn(frame.tcp))!;
  const client = { address: syn.src, port: syn.tcp.srcPort };
  const server = { address: syn.dst, port: syn.tcp.dstPort };
  const fromOf = (frame: TcpFrame) => (frame.src === client.address && frame.tcp.srcPort === client.port ? 'client' : 'server');
  const segment = (frame: TcpFrame): TcpSegment => ({
    frame: frame.frame,
    ms: frame.ms,
    from: fromOf(frame),
    flags: frame.tcp.flags,
    seq: frame.tcp.seq,
    ack: frame.tcp.ack,
    len: frame.tcp.len,
    headerBytes: frame.tcp.headerBytes,
  });

  const synAckAt = stream.findIndex((frame) => frame.tcp.flags.includes('SYN') && frame.tcp.flags.includes('ACK'));
  const thirdAck = synAckAt < 0 ? undefined : stream.slice(synAckAt + 1).find((frame) => fromOf(frame) === 'client' && !frame.tcp.flags.includes('SYN'));
  const handshake = [...stream.filter((frame) => frame.tcp.flags.includes('SYN')), ...(thirdAck ? [thirdAck] : [])].map(segment);

  // The capture is the client's own interface: its segments appear in the order it sent them, so one
  // below what it had sent is sent again, whatever tshark calls it (on a path of 0.05 ms it calls most
  // resends "out of order": they come within an RTT). The server's segments cross the path first, where
  // one can overtake another: those out of order are counted apart, as the path's reordering.
  const flagged = (frame: TcpFrame) => frame.tcp.retransmission || frame.tcp.fastRetransmission || frame.tcp.spuriousRetransmission;
  const retransmitted = (frame: TcpFrame) => flagged(frame) || (frame.tcp.outOfOrder && fromOf(frame) === 'client');
  const reordered = stream.filter((frame) => frame.tcp.outOfOrder && !flagged(frame) && fromOf(frame) === 'server').length;
  const data = stream.filter((frame) => frame.tcp.len > 0 && !retransmitted(frame));

  const retransmissions: LadderRetransmission[] = [];
  let previous: TcpFrame | undefined;
  const latestFrom: Record<'client' | 'server', TcpFrame[]> = { client: [], server: [] };
  for (const frame of stream) {
    const from = fromOf(frame);
    if (retransmitted(frame) && !frame.tcp.flags.includes('SYN')) {
      const silentMs = previous ? Math.max(0, frame.ms - previous.ms) : 0;
      const trigger = triggerOf(frame, silentMs, latestFrom[from === 'client' ? 'server' : 'client']);
      retransmissions.push({ ...segment(frame), trigger, spurious: frame.tcp.spuriousRetransmission, sinceOriginalMs: frame.tcp.sinceOriginalMs, silentMs });
    }
    previous = frame;
    latestFrom[from] = [...latestFrom[from].slice(1 - EVIDENCE_FRAMES), frame];
  }

  const firstClose = stream.findIndex((frame) => closes(frame.tcp));
  const teardown = firstClose < 0 ? [] : stream.slice(firstClose).filter((frame) => closes(frame.tcp) || frame.tcp.len === 0).slice(0, LADDER_LIMITS.teardown).map(segment);

  return {
    client,
    server,
    handshake,
    options: { client: synOptions(syn.tcp), server: synOptions(synAckAt < 0 ? undefined : stream[synAckAt]!.tcp) },
    firstData: data.slice(0, LADDER_LIMITS.firstData).map(segment),
    dataHeaderBytes: data[0]?.tcp.headerBytes ?? null,
    retransmissions: {
      total: retransmissions.length,
      byClient: retransmissions.filter((r) => r.from === 'client').length,
      byServer: retransmissions.filter((r) => r.from === 'server').length,
      duplicateAcks: retransmissions.filter((r) => r.trigger === 'duplicate-acks').length,
      timeout: retransmissions.filter((r) => r.trigger === 'timeout').length,
      spurious: retransmissions.filter((r) => r.spurious).length,
      shown: firstOfEachTrigger(retransmissions),
    },
    reorderedFromServer: reordered,
    teardown,
    closedFirstBy: firstClose < 0 ? null : fromOf(stream[firstClose]!),
    segments: stream.length,
    otherConnections: found.others,
  };
}

/**
 * UDP in the capture, seen from the client's host (`clientAddress`; where it is not known, the sender of
 * the first datagram, which is always the client's: it joins before anything comes back). The datagrams
 * drawn are the first of the busiest flow out of the client: a stream's sender to the relay.
 */
export function udpPackets(frames: readonly CapturedFrame[], clientAddress: string | null): UdpPackets {
  const datagrams = frames.filter((frame): frame is CapturedFrame & { udp: NonNullable<CapturedFrame['udp']> } => frame.udp !== null);
  const self = clientAddress ?? datagrams[0]?.src ?? null;
  const out = datagrams.filter((frame) => frame.src === self);
  const flowOf = (frame: (typeof datagrams)[number]) => `${frame.udp.srcPort} ${frame.dst}:${frame.udp.dstPort}`;
  const sizes = new Map<string, number>();
  for (const frame of out) sizes.set(flowOf(frame), (sizes.get(flowOf(frame)) ?? 0) + 1);
  const busiest = [...sizes.entries()].sort((a, b) => b[1] - a[1])[0]?.[0];
  return {
    sent: out.length,
    received: datagrams.length - out.length,
    first: out
      .filter((frame) => flowOf(frame) === busiest)
      .slice(0, LADDER_LIMITS.udp)
      .map((frame) => ({ frame: frame.frame, ms: frame.ms, src: { address: frame.src, port: frame.udp.srcPort }, dst: { address: frame.dst, port: frame.udp.dstPort }, bytes: frame.udp.bytes })),
  };
}
