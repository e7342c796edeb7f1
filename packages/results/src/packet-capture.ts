import { z } from 'zod';

/**
 * What a step's packet capture shows (part of the sweep's contract, docs/sweep-result.md): the file, and
 * what tshark read in it, the TCP connection's ladder from SYN to FIN and the first UDP datagrams. Times
 * are ms from the capture's first frame; sequence and acknowledgement numbers are relative (0 at the
 * SYN), as Wireshark shows them. Frame numbers are the capture's, to find a packet in Wireshark.
 */
const count = z.number().int().nonnegative();
/**
 * A time as dumpcap stamped the packet: packets handed over by different CPUs can be stamped a few
 * microseconds out of order, so a time can be a hair below the one before it, or below 0.
 */
const ms = z.number();
const endpoint = z.strictObject({ address: z.string(), port: z.number().int().min(0).max(65535) });
const side = z.enum(['client', 'server']);

const tcpSegment = z.strictObject({
  frame: count,
  ms,
  from: side,
  /** Its flags by name, connection flags first: ["SYN"], ["SYN", "ACK"], ["FIN", "ACK"], ["PSH", "ACK"]. */
  flags: z.array(z.string()),
  seq: count,
  ack: count,
  /** Payload bytes. */
  len: count,
  /** The TCP header as it was on the wire, options included: 20 bytes and up (RFC 9293 section 3.1). */
  headerBytes: count,
});

/** What one side offered in its SYN (RFC 9293 3.7.1 MSS; RFC 7323 window scale and timestamps; RFC 2018 SACK). */
const synOptions = z.strictObject({
  mss: count.nullable(),
  windowScale: count.nullable(),
  sackPermitted: z.boolean(),
  timestamps: z.boolean(),
});

/**
 * Why a segment was sent again. `duplicate-acks`: the receiver's ACKs told the sender it was missing:
 * duplicate ACKs, or SACK blocks naming data that came after it (tshark marks a fast retransmission, or
 * one of the receiver's last three frames before it was a duplicate ACK or carried SACK blocks). `timeout`: nothing
 * did; the sender's timer ran out (a retransmission timeout, RFC 6298, or a tail-loss probe, RFC 8985),
 * and always when the connection had been silent for 200 ms, Linux's lowest RTO.
 */
export const retransmissionTriggers = ['duplicate-acks', 'timeout'] as const;

const retransmission = tcpSegment.extend({
  trigger: z.enum(retransmissionTriggers),
  /**
   * Needless: the receiver had it already (tshark: spurious retransmission). The sender could not know: the
   * original was late, or the ACKs had no room to say so (beside timestamps a SACK option lists at most three
   * blocks, RFC 2018 section 3, so a receiver with more holes leaves some data it holds unsaid).
   */
  spurious: z.boolean(),
  /** How long after the segment's first sending (tshark's tcp.analysis.rto; null where tshark did not find the first). */
  sinceOriginalMs: ms.nullable(),
  /** How long the connection had been silent (nothing in either direction) before it. */
  silentMs: z.number().nonnegative(),
});

/** Segments of each kind the ladder draws at most; the counts are always whole. */
export const LADDER_LIMITS = { firstData: 4, retransmissions: 12, teardown: 10, udp: 6 } as const;

const tcpLadder = z.strictObject({
  /** The side that sent the SYN, and its ephemeral port; the side that answered, on its listening port. */
  client: endpoint,
  server: endpoint,
  /** SYN, SYN-ACK, ACK (and any SYN sent again), as they crossed the client's interface. */
  handshake: z.array(tcpSegment),
  options: z.strictObject({ client: synOptions, server: synOptions }),
  /** The first segments that carried data, either way. */
  firstData: z.array(tcpSegment),
  /** The header size of the data segments (timestamps make it 32 bytes, not 20); null: no data. */
  dataHeaderBytes: count.nullable(),
  retransmissions: z.strictObject({
    /** Every retransmitted segment, by side and by trigger. */
    total: count,
    byClient: count,
    byServer: count,
    duplicateAcks: count,
    timeout: count,
    /** Of them, needless: the receiver had the data already. */
    spurious: count,
    /** Those drawn: the first six the ACKs asked for and the first six a timer sent (more of one kind where the other has fewer), in order. */
    shown: z.array(retransmission),
  }),
  /**
   * The server's data segments that came in below what had come before and that tshark does not take for
   * retransmissions: overtaken on the way (the lab's path reorders a few: veth pairs hand packets to
   * whichever CPU). The client's own segments are seen as sent, so any of them that goes back is counted
   * as sent again.
   */
  reorderedFromServer: count,
  /** From the first FIN or RST on, the segments without data (FINs, RSTs, ACKs, and a FIN sent again when its ACK was lost), the first ten. */
  teardown: z.array(tcpSegment),
  /** Who sent the first FIN (or RST); null: the capture ended before either did. */
  closedFirstBy: side.nullable(),
  /** Frames of this connection in the capture. */
  segments: count,
  /** Other TCP connections in the capture (the ladder is the experiment's, found by the client's port). */
  otherConnections: count,
});

const udpDatagram = z.strictObject({ frame: count, ms, src: endpoint, dst: endpoint, bytes: count });

/** UDP in the capture: the stream's datagrams out to the relay and back, with no handshake, ACK or FIN. */
const udpPackets = z.strictObject({
  /** UDP datagrams the client's host sent (joins, leaves and the streams), and received (answers and the relayed streams). */
  sent: count,
  received: count,
  /** The first few of the busiest flow the client's host sent (a stream's sender to the relay), as drawn. */
  first: z.array(udpDatagram),
});

export const packetCaptureSchema = z.union([
  z.strictObject({
    /** The pcapng file, beside the JSON (its name only). */
    file: z.string(),
    bytes: count,
    /** Bytes kept of each packet (headers only). */
    snapLength: count,
    /** dumpcap's own count of what it captured and what was dropped before it could (null: it did not say). */
    packets: count.nullable(),
    dropped: count.nullable(),
    /** Null where no TCP connection of the experiment was in the capture. */
    tcp: tcpLadder.nullable(),
    udp: udpPackets,
    /** What went wrong reading the capture; null: nothing. */
    error: z.string().nullable(),
  }),
  z.strictObject({
    /** Why this step has no capture (the lab cannot make one; dumpcap is missing; it would not start). */
    unavailable: z.string(),
  }),
]);

export type PacketCapture = z.infer<typeof packetCaptureSchema>;
export type TcpLadder = z.infer<typeof tcpLadder>;
export type TcpSegment = z.infer<typeof tcpSegment>;
export type LadderRetransmission = z.infer<typeof retransmission>;
export type UdpPackets = z.infer<typeof udpPackets>;
export type SynOptions = z.infer<typeof synOptions>;
