import { z } from 'zod';
import { errorCodes } from './errors.ts';
import { wireFileNameSchema } from './file-name.ts';

/** Version of the TCP file-transfer protocol, exchanged in hello/welcome (docs/tcp-protocol.md). */
export const TCP_PROTOCOL_VERSION = 1;

const sha256Hex = z.string().regex(/^[0-9a-f]{64}$/, 'a lowercase hex SHA-256 digest');
// Sizes travel as JSON numbers; 2^53-1 bytes is far above any limit a server sets.
const byteCount = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);

export const helloSchema = z.strictObject({
  type: z.literal('hello'),
  version: z.number().int().nonnegative(),
  agent: z.string().max(100).optional(),
});

/** What identifies a file's content on the wire: name, size in bytes, SHA-256. */
const fileFacts = { name: wireFileNameSchema, size: byteCount, sha256: sha256Hex };

export const putSchema = z.strictObject({ type: z.literal('put'), ...fileFacts });

export const getSchema = z.strictObject({
  type: z.literal('get'),
  name: wireFileNameSchema,
});

/** Every message a client may send, told apart by `type`. */
export const clientMessageSchema = z.discriminatedUnion('type', [helloSchema, putSchema, getSchema]);
export type ClientMessage = z.infer<typeof clientMessageSchema>;

export const welcomeSchema = z.strictObject({
  type: z.literal('welcome'),
  version: z.number().int().nonnegative(),
  server: z.string().max(100),
  maxFileBytes: byteCount,
});

export const storedSchema = z.strictObject({ type: z.literal('stored'), ...fileFacts });

export const fileSchema = z.strictObject({ type: z.literal('file'), ...fileFacts });

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
  errorMessageSchema,
]);
export type ServerMessage = z.infer<typeof serverMessageSchema>;

export type TcpMessage = ClientMessage | ServerMessage;

/**
 * How many raw bytes follow a message's header on the wire: the file body of `put` and `file`
 * (possibly zero), or null for messages that carry none.
 */
export function bodyLengthOf(message: TcpMessage): number | null {
  switch (message.type) {
    case 'put':
    case 'file':
      return message.size;
    default:
      return null;
  }
}
