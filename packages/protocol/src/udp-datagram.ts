import type { ErrorCode } from './errors.ts';

/**
 * The lab's datagram format (docs/udp-datagram.md). One UDP datagram is one message (udp(7): message
 * boundaries are preserved), so there is no framing: a fixed 32-byte header, then the payload.
 * All fields are big-endian (network byte order).
 *
 *   offset  size  field
 *        0     2  magic 0x4C55 ("LU")
 *        2     1  version (1)
 *        3     1  type (DatagramType)
 *        4     2  flags (none defined in version 1; sent as 0, ignored on receipt)
 *        6     2  reserved (0)
 *        8     4  room
 *       12     4  sender id (chosen at random by each client socket)
 *       16     8  sequence number, unsigned 64-bit, starts at 0 per sender and never wraps in practice
 *       24     8  send time, microseconds since the Unix epoch on the sender's clock
 *       32     …  payload
 */
export const DATAGRAM_MAGIC = 0x4c55;
export const DATAGRAM_VERSION = 1;
export const DATAGRAM_HEADER_BYTES = 32;
/** Largest UDP payload over IPv4: 65535 - 20 (IP header) - 8 (UDP header) (RFC 768, RFC 791). */
export const MAX_UDP_PAYLOAD_BYTES = 65_507;

export const DatagramType = {
  /**
   * client → relay: become a member of `room` at this source address and port. Payload: a JSON
   * `JoinPayload` padded with spaces to JOIN_MIN_BYTES, so that the relay's answer is never larger.
   */
  join: 1,
  /** relay → client: the join was accepted. Payload: JSON `JoinedPayload` (where to listen). */
  joined: 2,
  /** client → relay: stop being a member. */
  leave: 3,
  /** member → relay → the room: application data (a measurement stream). */
  data: 4,
  /** relay → client: prove you receive at this address: repeat the join with this cookie. */
  challenge: 5,
  /** member → relay: still here (membership expires without traffic). */
  keepalive: 6,
  /** member → relay → the room: a chat line. Payload: JSON `ChatPayload`. */
  chat: 7,
  /** member → relay → the room: a stream is over. Payload: JSON `EndPayload` (how many were sent). */
  end: 8,
} as const;
export type DatagramTypeName = keyof typeof DatagramType;
export type DatagramTypeCode = (typeof DatagramType)[DatagramTypeName];

const typeNames = new Map<number, DatagramTypeName>(
  Object.entries(DatagramType).map(([name, code]) => [code, name as DatagramTypeName]),
);

export interface Datagram {
  type: DatagramTypeName;
  flags: number;
  room: number;
  sender: number;
  seq: bigint;
  sendTimeUs: bigint;
  payload: Buffer;
}

export type DatagramDecodeResult = { ok: true; datagram: Datagram } | { ok: false; code: ErrorCode };

export function encodeDatagram(datagram: Datagram): Buffer {
  const out = Buffer.allocUnsafe(DATAGRAM_HEADER_BYTES + datagram.payload.length);
  out.writeUInt16BE(DATAGRAM_MAGIC, 0);
  out.writeUInt8(DATAGRAM_VERSION, 2);
  out.writeUInt8(DatagramType[datagram.type], 3);
  out.writeUInt16BE(datagram.flags, 4);
  out.writeUInt16BE(0, 6);
  out.writeUInt32BE(datagram.room, 8);
  out.writeUInt32BE(datagram.sender, 12);
  out.writeBigUInt64BE(datagram.seq, 16);
  out.writeBigUInt64BE(datagram.sendTimeUs, 24);
  datagram.payload.copy(out, DATAGRAM_HEADER_BYTES);
  return out;
}

/**
 * Checks the size before reading any field, then magic, version and type; the payload is a view into
 * `bytes`, not a copy. Never throws: a network peer controls every byte.
 */
export function decodeDatagram(bytes: Buffer, maxBytes = MAX_UDP_PAYLOAD_BYTES): DatagramDecodeResult {
  if (bytes.length < DATAGRAM_HEADER_BYTES) return { ok: false, code: 'LAB_ERR_DATAGRAM_TOO_SHORT' };
  if (bytes.length > maxBytes) return { ok: false, code: 'LAB_ERR_DATAGRAM_TOO_LARGE' };
  if (bytes.readUInt16BE(0) !== DATAGRAM_MAGIC) return { ok: false, code: 'LAB_ERR_DATAGRAM_BAD_MAGIC' };
  if (bytes.readUInt8(2) !== DATAGRAM_VERSION) return { ok: false, code: 'LAB_ERR_DATAGRAM_BAD_VERSION' };
  const type = typeNames.get(bytes.readUInt8(3));
  if (type === undefined) return { ok: false, code: 'LAB_ERR_DATAGRAM_BAD_TYPE' };
  return {
    ok: true,
    datagram: {
      type,
      flags: bytes.readUInt16BE(4),
      room: bytes.readUInt32BE(8),
      sender: bytes.readUInt32BE(12),
      seq: bytes.readBigUInt64BE(16),
      sendTimeUs: bytes.readBigUInt64BE(24),
      payload: bytes.subarray(DATAGRAM_HEADER_BYTES),
    },
  };
}

