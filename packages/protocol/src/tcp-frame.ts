import type { z } from 'zod';
import { LabError } from './errors.ts';
import { summarizeIssues } from './schema-issues.ts';

/**
 * TCP frames (docs/tcp-protocol.md): a 4-byte big-endian header length, that many bytes of UTF-8 JSON
 * header, then, for messages that declare one, exactly `bodyLength(header)` raw bytes.
 * TCP is a byte stream (RFC 9293 §3.8.2 gives no message boundaries), so the receiver must restore them.
 */
export const LENGTH_PREFIX_BYTES = 4;

/** Default ceiling for one header; a header holds a name and a few numbers, so 16 KiB is generous. */
export const DEFAULT_MAX_HEADER_BYTES = 16 * 1024;

/** Encodes one message header as a frame (length prefix + JSON). The body, if any, is written after it. */
export function encodeFrameHeader(message: object): Buffer {
  const json = Buffer.from(JSON.stringify(message), 'utf8');
  const frame = Buffer.allocUnsafe(LENGTH_PREFIX_BYTES + json.length);
  frame.writeUInt32BE(json.length, 0);
  json.copy(frame, LENGTH_PREFIX_BYTES);
  return frame;
}

export type FrameEvent<M> =
  | { kind: 'message'; message: M }
  /** A slice of the body that follows the last message; slices arrive in order and are not copied. */
  | { kind: 'body'; data: Buffer }
  /** The body of the last message is complete (sent also for an empty body). */
  | { kind: 'body-end' }
  /** Fatal: the stream cannot be resynchronised after it; the decoder produces nothing more. */
  | { kind: 'error'; error: LabError };

export interface FrameDecoderOptions<M> {
  /** The messages this side accepts: a discriminated union, checked with safeParse. */
  schema: z.ZodType<M>;
  /** Raw bytes that follow a message, or null when it carries no body. */
  bodyLength: (message: M) => number | null;
  maxHeaderBytes?: number;
}

type Stage = 'length' | 'header' | 'body' | 'failed';

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Turns chunks of a byte stream into messages and body slices, at any split of the input.
 * Pure: it never touches a socket (as ws's `lib/receiver.js`). It decodes in two stages, framing and
 * then schema validation, and it checks the header length as soon as the 4 length bytes are known,
 * before buffering anything of the header.
 */
export class FrameDecoder<M> {
  readonly #schema: z.ZodType<M>;
  readonly #bodyLength: (message: M) => number | null;
  readonly #maxHeaderBytes: number;
  #stage: Stage = 'length';
  #need = LENGTH_PREFIX_BYTES;
  #pending: Buffer[] = [];
  #pendingBytes = 0;
  #bodyLeft = 0;

  constructor(options: FrameDecoderOptions<M>) {
    this.#schema = options.schema;
    this.#bodyLength = options.bodyLength;
    this.#maxHeaderBytes = options.maxHeaderBytes ?? DEFAULT_MAX_HEADER_BYTES;
  }

  /** True between frames: nothing of a next frame has arrived yet. */
  get atBoundary(): boolean {
    return this.#stage === 'length' && this.#pendingBytes === 0;
  }

  /**
   * True from the first byte of a frame's length prefix until its header is complete: the span a
   * header timeout must cover as one (a prefix that completes exactly at a chunk's end is still inside).
   */
  get inHeader(): boolean {
    return this.#stage === 'header' || (this.#stage === 'length' && this.#pendingBytes > 0);
  }

  /** Bytes held while a length prefix or header is incomplete (bodies are never held). */
  get bufferedBytes(): number {
    return this.#pendingBytes;
  }

  push(chunk: Buffer): FrameEvent<M>[] {
    const events: FrameEvent<M>[] = [];
    let offset = 0;
    while (offset < chunk.length && this.#stage !== 'failed') {
      if (this.#stage === 'body') {
        const n = Math.min(this.#bodyLeft, chunk.length - offset);
        events.push({ kind: 'body', data: chunk.subarray(offset, offset + n) });
        offset += n;
        this.#bodyLeft -= n;
        if (this.#bodyLeft === 0) this.#endBody(events);
        continue;
      }
      const take = Math.min(this.#need - this.#pendingBytes, chunk.length - offset);
      this.#pending.push(chunk.subarray(offset, offset + take));
      this.#pendingBytes += take;
      offset += take;
      if (this.#pendingBytes < this.#need) break;
      const bytes = this.#pending.length === 1 ? this.#pending[0]! : Buffer.concat(this.#pending, this.#pendingBytes);
      this.#pending = [];
      this.#pendingBytes = 0;
      if (this.#stage === 'length') this.#onLength(bytes.readUInt32BE(0), events);
      else this.#onHeader(bytes, events);
    }
    return events;
  }

  /** Call when the stream ends: an error if it ended inside a frame. */
  end(): LabError | null {
    if (this.#stage === 'failed' || this.atBoundary) return null;
    const where = this.#stage === 'body' ? `with ${this.#bodyLeft} body bytes missing` : `inside a ${this.#stage}`;
    this.#stage = 'failed';
    return new LabError('LAB_ERR_TRUNCATED', `the stream ended ${where}`);
  }

  #onLength(length: number, events: FrameEvent<M>[]): void {
    if (length === 0) return this.#fail(events, new LabError('LAB_ERR_HEADER_EMPTY'));
    if (length > this.#maxHeaderBytes) {
      return this.#fail(
        events,
        new LabError('LAB_ERR_HEADER_TOO_LARGE', `header of ${length} bytes is above the limit of ${this.#maxHeaderBytes}`),
      );
    }
    this.#stage = 'header';
    this.#need = length;
  }

  #onHeader(bytes: Buffer, events: FrameEvent<M>[]): void {
    let json: unknown;
    try {
      json = JSON.parse(utf8.decode(bytes));
    } catch {
      return this.#fail(events, new LabError('LAB_ERR_HEADER_NOT_JSON'));
    }
    const parsed = this.#schema.safeParse(json);
    if (!parsed.success) {
      return this.#fail(events, new LabError('LAB_ERR_HEADER_INVALID', summarizeIssues(parsed.error)));
    }
    events.push({ kind: 'message', message: parsed.data });
    const bodyLength = this.#bodyLength(parsed.data);
    if (bodyLength === null) this.#expectLength();
    else if (bodyLength === 0) this.#endBody(events);
    else {
      this.#stage = 'body';
      this.#bodyLeft = bodyLength;
    }
  }

  #endBody(events: FrameEvent<M>[]): void {
    events.push({ kind: 'body-end' });
    this.#expectLength();
  }

  #expectLength(): void {
    this.#stage = 'length';
    this.#need = LENGTH_PREFIX_BYTES;
  }

  #fail(events: FrameEvent<M>[], error: LabError): void {
    this.#stage = 'failed';
    this.#pending = [];
    this.#pendingBytes = 0;
    events.push({ kind: 'error', error });
  }
}
