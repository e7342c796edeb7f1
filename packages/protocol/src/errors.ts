/**
 * The lab's error catalogue: one stable code per failure, each with its message, in one table, as
 * fastify's `lib/errors.js` keeps its FST_ERR_* codes (undici's `lib/core/errors.js` gives each error
 * class a stable UND_ERR_* `code` too). Code that reacts to an error branches on `code`, never on a
 * message text.
 * Every code here is documented in docs/errors.md; `errors.test.ts` fails when one is not.
 */
export const errorCatalogue = {
  // framing and headers (TCP)
  LAB_ERR_HEADER_TOO_LARGE: 'A frame declared a header longer than the receiver accepts.',
  LAB_ERR_HEADER_EMPTY: 'A frame declared a header of zero bytes.',
  LAB_ERR_HEADER_NOT_JSON: 'A header is not valid UTF-8 JSON.',
  LAB_ERR_HEADER_INVALID: 'A header is JSON but does not match any message of the protocol.',
  LAB_ERR_TRUNCATED: 'The connection ended in the middle of a frame or of a file body.',
  LAB_ERR_UNEXPECTED_MESSAGE: 'A valid message arrived where the protocol does not allow it.',
  LAB_ERR_UNSUPPORTED_VERSION: 'The peer speaks a protocol version this side does not.',
  // files (TCP)
  LAB_ERR_BAD_FILE_NAME: 'A file name is not allowed (path separators, a leading dot, control characters, length).',
  LAB_ERR_FILE_TOO_LARGE: 'A declared file size is above the configured limit.',
  LAB_ERR_NOT_FOUND: 'No stored file has that name.',
  LAB_ERR_HASH_MISMATCH: 'The SHA-256 of the received bytes differs from the declared one; nothing was stored.',
  LAB_ERR_STORAGE: 'The server could not read or write its storage.',
  LAB_ERR_OFFSET_MISMATCH: 'A resume offset does not match the bytes the other side holds.',
  LAB_ERR_BUSY: 'Another connection took over this upload (it resumed the same content), or is deleting it.',
  LAB_ERR_QUOTA_EXCEEDED: 'Storing the file would exceed the server\'s storage quota.',
  LAB_ERR_DISK_FULL: 'The server\'s disk has no room for the file beside the space it keeps in reserve.',
  LAB_ERR_TOO_MANY_CONNECTIONS: 'The server, or this client address, has the maximum number of connections open.',
  LAB_ERR_HEADER_TIMEOUT: 'A frame header began but did not complete within the allowed time.',
  LAB_ERR_SHUTTING_DOWN: 'The server is shutting down and takes no new requests.',
  LAB_ERR_NOT_IN_ROOM: 'A chat message was sent before joining a room.',
  LAB_ERR_SLOW_CONSUMER: 'A chat member read so slowly that the server closed its connection rather than buffer without bound.',
  // datagrams (UDP)
  LAB_ERR_DATAGRAM_TOO_SHORT: 'A datagram is shorter than the fixed header.',
  LAB_ERR_DATAGRAM_TOO_LARGE: 'A datagram is longer than the configured limit.',
  LAB_ERR_DATAGRAM_BAD_MAGIC: 'A datagram does not start with the lab magic number.',
  LAB_ERR_DATAGRAM_BAD_VERSION: 'A datagram carries a format version this side does not speak.',
  LAB_ERR_DATAGRAM_BAD_TYPE: 'A datagram carries an unknown message type.',
  LAB_ERR_NOT_MEMBER: 'A datagram came from an address that is not a member of the room.',
  LAB_ERR_ROOM_FULL: 'A join was refused because the room has the maximum number of members.',
  LAB_ERR_BAD_COOKIE: 'A join carried a cookie that is not the relay\'s for that address, or an expired one.',
  LAB_ERR_JOIN_TOO_SMALL: 'A join was smaller than the relay\'s answer would be (it must be padded), so it was not answered.',
  LAB_ERR_BAD_PAYLOAD: 'A control datagram\'s payload is not the JSON its type requires.',
  LAB_ERR_MODE_MISMATCH: 'A join asked for a delivery mode other than the one the room already has.',
  LAB_ERR_RATE_LIMITED: 'A source sent more packets or bytes per second than the relay allows.',
  LAB_ERR_BAD_SOURCE: 'A datagram came from port 0, to which nothing can be sent back.',
  LAB_ERR_BAD_TOKEN: 'A keepalive or leave did not carry the member token the relay gave in joined.',
  LAB_ERR_TOO_MANY_MEMBERSHIPS: 'A source address is already a member of as many rooms as the relay allows.',
  LAB_ERR_TOO_MANY_ROOMS: 'A join was refused because the relay has the maximum number of rooms.',
  // impairment
  LAB_ERR_BAD_PROFILE: 'An impairment profile is not in the netem-style syntax the lab accepts.',
  LAB_ERR_IMPAIRMENT_UNSUPPORTED: 'The impairment backend in use cannot apply an option of the profile (e.g. delay without netem).',
  LAB_ERR_IMPAIRMENT_MISMATCH: 'What the kernel reports as installed differs from the profile that was applied.',
  // the lab runner
  LAB_ERR_LAB_IN_USE: 'Another live run holds the local lab\'s network namespaces; starting a second would tear the first down.',
  LAB_ERR_GUEST: 'The user-mode Linux guest that runs the lab could not start, or ended (or was stopped at its time limit) without its job\'s exit status.',
  // client and services
  LAB_ERR_CONFIG: 'A command-line flag or environment variable is invalid.',
  LAB_ERR_CONNECT: 'A TCP connection could not be established within the retry budget.',
  LAB_ERR_JOIN_TIMEOUT: 'The relay did not confirm a join within the retry budget.',
  LAB_ERR_TIMEOUT: 'The peer did not answer or send within the allowed time.',
  LAB_ERR_DEADLINE: 'The experiment\'s time limit for a transfer passed before it completed (it was cut, not failed by the peer).',
  LAB_ERR_CONNECTION: 'The connection failed (reset, refused, or closed early by the peer).',
  LAB_ERR_LOCAL_FILE: 'The client could not read or write a local file.',
} as const;

export type ErrorCode = keyof typeof errorCatalogue;

export const errorCodes = Object.keys(errorCatalogue) as ErrorCode[];

/** The one error class of the lab; `code` is stable, `message` is for people. */
export class LabError extends Error {
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string = errorCatalogue[code], options?: ErrorOptions) {
    super(message, options);
    this.name = 'LabError';
    this.code = code;
  }
}
