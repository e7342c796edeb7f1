import { z } from 'zod';
import { DATAGRAM_HEADER_BYTES } from './udp-datagram.ts';

/**
 * The JSON payloads of the relay's control datagrams (docs/udp-datagram.md), validated with zod like
 * every other message from the network. JSON allows trailing whitespace, which is how a join is padded.
 */

/** How a room delivers: a copy per member, one subnet broadcast, or one multicast group send. */
export const deliveryModes = ['unicast', 'broadcast', 'multicast'] as const;
export type DeliveryMode = (typeof deliveryModes)[number];

/**
 * A join is padded to at least this many bytes: the relay's answers to a join (challenge, joined) are
 * smaller, so the relay never sends more bytes to an address than that address (or a forger of it) sent.
 */
export const JOIN_MIN_BYTES = 256;

export const joinPayloadSchema = z.strictObject({
  mode: z.enum(deliveryModes),
  /** The cookie from the relay's challenge; absent on the first try. */
  cookie: z.string().regex(/^[0-9a-f]{1,64}$/).optional(),
});
export type JoinPayload = z.infer<typeof joinPayloadSchema>;

export const challengePayloadSchema = z.strictObject({ cookie: z.string().regex(/^[0-9a-f]{1,64}$/) });

export const joinedPayloadSchema = z.strictObject({
  mode: z.enum(deliveryModes),
  /** Where the room's datagrams arrive for this mode: the member's own address (unicast), or the
   *  broadcast or multicast address and port to listen on. */
  address: z.string().max(64).optional(),
  port: z.number().int().min(1).max(65_535).optional(),
  /** Send a keepalive at least this often, or the membership expires. */
  keepaliveMs: z.number().int().positive(),
  /**
   * A secret of this membership: keepalive and leave must carry it, so that someone forging this
   * member's address can neither keep a departed member alive nor make it leave.
   */
  token: z.string().regex(/^[0-9a-f]{32}$/),
});
export type JoinedPayload = z.infer<typeof joinedPayloadSchema>;

/** The payload of keepalive and leave. */
export const memberTokenPayloadSchema = z.strictObject({ token: z.string().regex(/^[0-9a-f]{32}$/) });

export const chatPayloadSchema = z.strictObject({ name: z.string().max(40), text: z.string().min(1).max(1000) });
export type ChatPayload = z.infer<typeof chatPayloadSchema>;

export const endPayloadSchema = z.strictObject({ sent: z.number().int().nonnegative() });

/** Encodes a control payload as JSON, padded with spaces to `minBytes` (header included). */
export function encodeControl(value: object, minBytes = 0): Buffer {
  const json = Buffer.from(JSON.stringify(value), 'utf8');
  const pad = Math.max(0, minBytes - DATAGRAM_HEADER_BYTES - json.length);
  return pad === 0 ? json : Buffer.concat([json, Buffer.alloc(pad, 0x20)]);
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Decodes a control payload; null when it is not UTF-8 JSON of the schema's shape. */
export function decodeControl<T>(schema: z.ZodType<T>, payload: Buffer): T | null {
  try {
    const parsed = schema.safeParse(JSON.parse(utf8.decode(payload)));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}
