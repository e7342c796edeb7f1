import { z } from 'zod';

/**
 * The fields the ladder is drawn from, as `tshark -T fields` prints them (wireshark-filter(4); names as
 * in Wireshark 4.0). Sequence and acknowledgement numbers are tshark's relative ones (0 at the SYN), as
 * Wireshark shows them. The analysis fields are tshark's own reading of the connection (it follows
 * sequence numbers and ACKs across the whole file): a retransmission, a fast one (after duplicate ACKs),
 * a spurious one (the receiver had the data already), a segment below what that side had sent before that
 * tshark takes for out of order rather than a retransmission (it came within an RTT: tcp.analysis.out_of_order), a duplicate ACK, and how long after the original a retransmission went (`tcp.analysis.rto`); and
 * whether an ACK carried SACK blocks (RFC 2018: the data that came after a hole).
 */
export const TSHARK_FIELDS = [
  'frame.number',
  'frame.time_relative',
  'ip.src',
  'ip.dst',
  'tcp.stream',
  'tcp.srcport',
  'tcp.dstport',
  'tcp.flags.str',
  'tcp.seq',
  'tcp.ack',
  'tcp.len',
  'tcp.hdr_len',
  'tcp.options.mss_val',
  'tcp.options.wscale.shift',
  'tcp.options.sack_perm',
  'tcp.options.timestamp.tsval',
  'tcp.analysis.retransmission',
  'tcp.analysis.fast_retransmission',
  'tcp.analysis.spurious_retransmission',
  'tcp.analysis.out_of_order',
  'tcp.analysis.duplicate_ack',
  'tcp.options.sack_le',
  'tcp.analysis.rto',
  'udp.srcport',
  'udp.dstport',
  'udp.length',
  // The first bytes of a datagram's payload (the capture keeps 54 of them): the lab's header, whose room
  // tells one stream from another (docs/udp-datagram.md).
  'udp.payload',
] as const;

/** Only what the ladder reads: the step's TCP and UDP, not ARP or IPv6 neighbour discovery. */
export const TSHARK_FILTER = 'tcp or udp';

const integer = z.coerce.number().int().nonnegative();
const optionalInteger = z.string().transform((text, context) => {
  if (text === '') return null;
  const value = Number(text);
  if (!Number.isInteger(value) || value < 0) {
    context.addIssue({ code: 'custom', message: `not a count: ${JSON.stringify(text)}` });
    return z.NEVER;
  }
  return value;
});
const optionalNumber = z.string().transform((text, context) => {
  if (text === '') return null;
  const value = Number(text);
  if (!Number.isFinite(value)) {
    context.addIssue({ code: 'custom', message: `not a number: ${JSON.stringify(text)}` });
    return z.NEVER;
  }
  return value;
});
/** A field that marks (an FT_NONE field such as tcp.analysis.retransmission): tshark prints it only when set. */
const present = z.string().transform((text) => text !== '');

/** One frame of the capture, read through the fields above. */
export const capturedFrameSchema = z
  .tuple([
    integer,
    // frame.time_relative: below 0 where a packet was stamped before the first (stamps from several CPUs).
    z.coerce.number(),
    z.string(),
    z.string(),
    optionalInteger,
    optionalInteger,
    optionalInteger,
    z.string(),
    optionalInteger,
    optionalInteger,
    optionalInteger,
    optionalInteger,
    optionalInteger,
    optionalInteger,
    present,
    present,
    present,
    present,
    present,
    present,
    present,
    present,
    optionalNumber,
    optionalInteger,
    optionalInteger,
    optionalInteger,
    // Absent from captures read before the field was asked for (the ladder's test fixture).
    z.string().optional(),
  ])
  .transform(([frame, time, src, dst, stream, srcPort, dstPort, flags, seq, ack, len, headerBytes, mss, windowScale, sackPermitted, timestamps, retransmission, fastRetransmission, spuriousRetransmission, outOfOrder, duplicateAck, sack, rtoSeconds, udpSrcPort, udpDstPort, udpLength, udpPayload]) => ({
    frame,
    ms: time * 1000,
    src,
    dst,
    tcp:
      stream === null || srcPort === null || dstPort === null
        ? null
        : {
            stream,
            srcPort,
            dstPort,
            // tshark draws flags as "·······A·S··" (tcp.flags.str): one letter per set bit, a dot for each clear one.
            flags: flagNames(flags),
            seq: seq ?? 0,
            ack: ack ?? 0,
            len: len ?? 0,
            headerBytes: headerBytes ?? 0,
            mss,
            windowScale,
            sackPermitted,
            timestamps,
            retransmission,
            fastRetransmission,
            spuriousRetransmission,
            outOfOrder,
            duplicateAck,
            sack,
            sinceOriginalMs: rtoSeconds === null ? null : rtoSeconds * 1000,
          },
    udp: udpSrcPort === null || udpDstPort === null ? null : { srcPort: udpSrcPort, dstPort: udpDstPort, bytes: Math.max(0, (udpLength ?? 8) - 8), lab: labHeader(udpPayload ?? '') },
  }));

/**
 * The type and room of a lab datagram from the first bytes of its payload in hex (docs/udp-datagram.md:
 * magic 0x4C55, version 1, type at byte 3, room at bytes 8-11, big-endian); null for anything else.
 */
export function labHeader(hex: string): { type: number; room: number } | null {
  if (!/^4c5501[0-9a-f]{18}/i.test(hex)) return null;
  return { type: parseInt(hex.slice(6, 8), 16), room: parseInt(hex.slice(16, 24), 16) };
}

export type CapturedFrame = z.output<typeof capturedFrameSchema>;
export type CapturedTcp = NonNullable<CapturedFrame['tcp']>;

/** The TCP flags in tcp.flags.str's order (RFC 9293 section 3.1, with RFC 3168's ECE and CWR). */
const FLAG_LETTERS: Record<string, string> = { C: 'CWR', E: 'ECE', U: 'URG', A: 'ACK', P: 'PSH', R: 'RST', S: 'SYN', F: 'FIN' };

/** "·······A·S··" → ["SYN", "ACK"]: named, connection-first (SYN, FIN, RST before ACK and PSH). */
export function flagNames(text: string): string[] {
  const set = new Set([...text].map((letter) => FLAG_LETTERS[letter]).filter((name): name is string => Boolean(name)));
  return ['SYN', 'FIN', 'RST', 'PSH', 'ACK', 'URG', 'ECE', 'CWR'].filter((name) => set.has(name));
}

/**
 * Reads `tshark -T fields` output (one frame a line, fields separated by tabs, first occurrence only).
 * A line the schema refuses is skipped and counted: tshark's output is input like any other.
 */
export function parseTsharkFields(text: string): { frames: CapturedFrame[]; refused: number } {
  const frames: CapturedFrame[] = [];
  let refused = 0;
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    const parsed = capturedFrameSchema.safeParse(line.split('\t'));
    if (parsed.success) frames.push(parsed.data);
    else refused += 1;
  }
  return { frames, refused };
}
