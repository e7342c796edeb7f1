import { z } from 'zod';
import { errorCodes } from './errors.ts';
import { wireFileNameSchema } from './file-name.ts';

/** Version of the TCP file-transfer protocol, exchanged in hello/welcome (docs/tcp-protocol.md). */
export const TCP_PROTOCOL_VERSION = 1;

/** Longest chat message text, in characters; a chat line, not a file. */
export const MAX_CHAT_TEXT = 2000;

const sha256Hex = z.string().regex(/^[0-9a-f]{64}$/, 'a lowercase hex SHA-256 digest');
// Sizes travel as JSON numbers; 2^53-1 bytes is far above any limit a server sets.
const byteCount = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);
const roomName = z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, 'a room name: 1-64 letters, digits, ".", "_" or "-"');
const offsetWithinSize = (m: { offset: number; size: number }) => m.offset <= m.size;
const offsetIssue = { message: 'offset is beyond size', path: ['offset'] };

/** What identifies a file's content on the wire: name, size in bytes, SHA-256 of the whole file. */
const fileFacts = { name: wireFileNameSchema, size: byteCount, sha256: sha256Hex };

// ---- client to server -------------------------------------------------------------------------

export const helloSchema = z.strictObject({
  type: z.literal('hello'),
  version: z.number().int().nonnegative(),
  agent: z.string().max(100).optional(),
});

/**
 * Upload `size - offset` bytes, the file from `offset` on. `offset` > 0 resumes an interrupted upload of
 * the same content (same name and SHA-256); it must equal the bytes the server holds (see `stat`).
 */
export const putSchema = z.strictObject({ type: z.literal('put'), ...fileFacts, offset: byteCount.default(0) }).refine(offsetWithinSize, offsetIssue);

/** Download, from `offset` on (to resume an interrupted download). */
export const getSchema = z.strictObject({ type: z.literal('get'), name: wireFileNameSchema, offset: byteCount.default(0) });
export const listSchema = z.strictObject({ type: z.literal('list') });
export const statSchema = z.strictObject({ type: z.literal('stat'), name: wireFileNameSchema });
export const deleteSchema = z.strictObject({ type: z.literal('delete'), name: wireFileNameSchema });
/** Enter a chat room (leaving the previous one); the server answers `chat-joined`. */
export const chatJoinSchema = z.strictObject({ type: z.literal('chat-join'), room: roomName });
/** Say something in the room joined; the server relays it to every other member, in order. */
export const chatSendSchema = z.strictObject({ type: z.literal('chat'), text: z.string().min(1).max(MAX_CHAT_TEXT) });

/** Every message a client may send, told apart by `type`. */
export const clientMessageSchema = z.discriminatedUnion('type', [
  helloSchema,
  putSchema,
  getSchema,
  listSchema,
  statSchema,
  deleteSchema,
  chatJoinSchema,
  chatSendSchema,
]);
export type ClientMessage = z.infer<typeof clientMessageSchema>;
/** What a sender writes: fields with defaults may be left out. */
export type ClientMessageInput = z.input<typeof clientMessageSchema>;

// ---- server to client -------------------------------------------------------------------------

export const welcomeSchema = z.strictObject({
  type: z.literal('welcome'),
  version: z.number().int().nonnegative(),
  server: z.string().max(100),
  maxFileBytes: byteCount,
});

export const storedSchema = z.strictObject({ type: z.literal('stored'), ...fileFacts });

/** A file's header before its bytes from `offset` on; `size` and `sha256` describe the whole file. */
export const fileSchema = z.strictObject({ type: z.literal('file'), ...fileFacts, offset: byteCount }).refine(offsetWithinSize, offsetIssue);

const listedFile = z.strictObject({ name: wireFileNameSchema, size: byteCount, modified: z.string() });
export const listingSchema = z.strictObject({ type: z.literal('listing'), files: z.array(listedFile) });

/** An interrupted upload the server keeps so it can be resumed: `received` of `size` bytes. */
const partialUpload = z.strictObject({ sha256: sha256Hex, received: byteCount });
export const statResultSchema = z.strictObject({
  type: z.literal('stat-result'),
  name: wireFileNameSchema,
  stored: z.strictObject({ size: byteCount, sha256: sha256Hex, modified: z.string() }).nullable(),
  partials: z.array(partialUpload),
});

export const deletedSchema = z.strictObject({ type: z.literal('deleted'), name: wireFileNameSchema, removed: z.number().int().nonnegative() });

export const chatJoinedSchema = z.strictObject({ type: z.literal('chat-joined'), room: roomName, members: z.number().int().nonnegative() });

/** A chat message relayed by the server; `seq` counts the room's messages, so order is visible. */
export const chatRelaySchema = z.strictObject({
  type: z.literal('chat'),
  room: roomName,
  from: z.string().max(100),
  seq: z.number().int().nonnegative(),
  text: z.string().max(MAX_CHAT_TEXT),
});

export const errorMessageSchema = z.strictObject({
  type: z.literal('error'),
  code: z.enum(errorCodes),
  message: z.string().max(1000),
});

/** Every message a server may send, told apart by `type`. */
export const serverMessageSchema = z.discriminatedUnion('type', [
  welcomeSchema,
  storedSchema,
  fileSchema,
  listingSchema,
  statResultSchema,
  deletedSchema,
  chatJoinedSchema,
  chatRelaySchema,
  errorMessageSchema,
]);
export type ServerMessage = z.infer<typeof serverMessageSchema>;

export type TcpMessage = ClientMessage | ServerMessage;

/**
 * How many raw bytes follow a message's header on the wire: the rest of the file from `offset` for
 * `put` and `file` (possibly zero), or null for messages that carry none.
 */
export function bodyLengthOf(message: TcpMessage): number | null {
  switch (message.type) {
    case 'put':
    case 'file':
      return message.size - message.offset;
    default:
      return null;
  }
}
