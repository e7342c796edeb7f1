import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import { pipeline } from 'node:stream/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  bodyLengthOf,
  encodeFrameHeader,
  formatEndpoint,
  formatHostPort,
  FrameDecoder,
  LabError,
  serverMessageSchema,
  TCP_PROTOCOL_VERSION,
  type ClientMessageInput,
  type Endpoint,
  type ServerMessage,
} from '@lab/protocol';
import type { Logger } from '@lab/runtime';
import { asLabError, FILE_CHUNK_BYTES, readFrames, writeChunk, type ReadEvent } from '@lab/stream-io';

export interface ConnectOptions {
  endpoint: Endpoint;
  log: Logger;
  /** Keep retrying a refused or failed connect for this long (the server may still be starting). */
  connectTimeoutMs?: number;
  /** Give up on one connect attempt after this long (a SYN nobody answers would take minutes). */
  attemptTimeoutMs?: number;
  /** Fail with LAB_ERR_TIMEOUT when the server sends nothing for this long while a reply is owed. */
  idleTimeoutMs?: number;
}

export type Message<T extends ServerMessage['type']> = Extract<ServerMessage, { type: T }>;

export interface TransferOptions {
  /** Called as bytes go out or come in, with the file position reached. */
  onProgress?: (position: number) => void;
  /** Bytes per second at most (like curl --limit-rate); 0 or undefined: as fast as TCP allows. */
  limitRate?: number;
}

export interface Downloaded {
  size: number;
  /** Declared by the server in the `file` header, for the whole file. */
  declaredSha256: string;
  /** Computed here over the whole file: the bytes kept before `offset` and the bytes that arrived. */
  sha256: string;
  /** Bytes that crossed the network in this download. */
  received: number;
}

/** A client connection to the TCP file server; requests run one at a time, in order. */
export class TcpFileClient {
  readonly #socket: Socket;
  readonly #events: AsyncGenerator<ReadEvent<ServerMessage>>;
  readonly #log: Logger;

  private constructor(socket: Socket, log: Logger) {
    this.#socket = socket;
    this.#log = log;
    const decoder = new FrameDecoder({ schema: serverMessageSchema, bodyLength: bodyLengthOf });
    this.#events = readFrames(socket, decoder);
  }

  /** Connects (retrying with capped exponential backoff), then exchanges hello/welcome. */
  static async connect(options: ConnectOptions): Promise<TcpFileClient> {
    // The idle default is generous: a server resuming a large upload first re-hashes the bytes it kept,
    // and sends nothing meanwhile.
    const { endpoint, log, connectTimeoutMs = 15_000, attemptTimeoutMs = 3000, idleTimeoutMs = 120_000 } = options;
    const target = formatEndpoint(endpoint);
    const deadline = Date.now() + connectTimeoutMs;
    let delayMs = 100;
    for (let attempt = 1; ; attempt++) {
      let socket: Socket;
      try {
        socket = await connectOnce(endpoint, attemptTimeoutMs);
      } catch (error) {
        const labError = asLabError(error);
        if (Date.now() + delayMs > deadline) {
          throw new LabError('LAB_ERR_CONNECT', `cannot connect to ${target} after ${attempt} attempts: ${labError.message}`, { cause: error });
        }
        log.debug('connect-retry', { target, attempt, error: labError.message });
        await sleep(delayMs);
        delayMs = Math.min(delayMs * 2, 1000);
        continue;
      }
      // connect(2) picked an ephemeral local port (ip(7): ip_local_port_range); show it for teaching.
      const local = socket.localPort ? formatHostPort(socket.localAddress ?? '', socket.localPort) : 'unix socket';
      log.info('connect', { msg: `connected ${local} -> ${target}`, localPort: socket.localPort, attempt });
      // Errors also surface through the frame reader while a request waits; this listener covers the
      // moments when nothing is reading (an uncaught 'error' event would end the process).
      socket.on('error', (error: NodeJS.ErrnoException) => log.debug('socket-error', { code: error.code }));
      socket.setTimeout(idleTimeoutMs, () => {
        socket.destroy(new LabError('LAB_ERR_TIMEOUT', `the server sent nothing for ${idleTimeoutMs} ms`));
      });
      const client = new TcpFileClient(socket, log);
      try {
        await client.#hello();
      } catch (error) {
        socket.destroy();
        throw error;
      }
      return client;
    }
  }

  async #hello(): Promise<void> {
    this.send({ type: 'hello', version: TCP_PROTOCOL_VERSION, agent: 'lab-client' });
    const welcome = await this.expect('welcome');
    this.#log.debug('welcome', { ...welcome });
  }

  /**
   * Streams a local file from `offset` on as `name`; resolves with what the server stored after its
   * SHA-256 check of the whole file.
   */
  async upload(path: string, file: { name: string; size: number; sha256: string; offset: number }, options: TransferOptions = {}): Promise<Message<'stored'>> {
    this.send({ type: 'put', ...file });
    // The reply is awaited while the body is still being sent: a server that refuses early replies at
    // once and closes, and its reason must win over the EPIPE our write then gets.
    const reply = this.expect('stored');
    const sending = (async () => {
      if (file.size === file.offset) return;
      const pace = pacer(options.limitRate);
      let position = file.offset;
      const source = createReadStream(path, { start: file.offset, end: file.size - 1, highWaterMark: FILE_CHUNK_BYTES });
      const chunks = source[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
      try {
        for (;;) {
          const next = await chunks.next().catch((error: unknown) => Promise.reject(localFileError(error, path)));
          if (next.done) break;
          await writeChunk(this.#socket, next.value);
          position += next.value.length;
          options.onProgress?.(position);
          await pace(position - file.offset);
        }
      } finally {
        source.destroy(); // the file descriptor, also when the socket failed first
      }
    })();
    const [replied, sent] = await Promise.allSettled([reply, sending]);
    if (replied.status === 'rejected') throw asLabError(replied.reason);
    if (sent.status === 'rejected') throw asLabError(sent.reason);
    return replied.value;
  }

  /**
   * Fetches `name` into `path` from `offset` on (the first `offset` bytes already in `path` are kept and
   * hashed), hashing the bytes as they arrive; disk writes pace the socket.
   */
  async download(name: string, path: string, offset: number, options: TransferOptions = {}): Promise<Downloaded> {
    this.send({ type: 'get', name, offset });
    const header = await this.expect('file');
    const hash = createHash('sha256');
    const local = (error: unknown) => Promise.reject(localFileError(error, path));
    if (offset > 0) await pipeline(createReadStream(path, { start: 0, end: offset - 1, highWaterMark: FILE_CHUNK_BYTES }), hash, { end: false }).catch(local);
    const out = createWriteStream(path, { ...(offset > 0 ? { flags: 'r+', start: offset } : { flags: 'w' }), highWaterMark: FILE_CHUNK_BYTES });
    out.on('error', () => {}); // surfaced by writeChunk and the close below
    const pace = pacer(options.limitRate);
    let received = 0;
    try {
      for (;;) {
        const event = await this.#next();
        if (event.kind === 'body-end') break;
        if (event.kind !== 'body') throw new LabError('LAB_ERR_UNEXPECTED_MESSAGE', `expected file bytes, got ${event.message.type}`);
        received += event.data.length;
        hash.update(event.data);
        await writeChunk(out, event.data).catch(local);
        options.onProgress?.(offset + received);
        await pace(received);
      }
      out.end();
      await once(out, 'close').catch(local);
      if (out.errored) await local(out.errored);
    } catch (error) {
      out.destroy();
      throw error;
    }
    return { size: header.size, declaredSha256: header.sha256, sha256: hash.digest('hex'), received };
  }

  /** The server's address as connected to; empty over a Unix socket. */
  get remoteAddress(): string {
    return this.#socket.remoteAddress ?? '';
  }

  /** Bytes handed to the kernel on this connection so far (frames and file bodies, each once). */
  get bytesWritten(): number {
    return this.#socket.bytesWritten;
  }

  /** The connection's local (ephemeral) port; 0 over a Unix socket. */
  get localPort(): number {
    return this.#socket.localPort ?? 0;
  }

  async list(): Promise<Message<'listing'>['files']> {
    this.send({ type: 'list' });
    return (await this.expect('listing')).files;
  }

  async stat(name: string): Promise<Message<'stat-result'>> {
    this.send({ type: 'stat', name });
    return this.expect('stat-result');
  }

  async delete(name: string): Promise<Message<'deleted'>> {
    this.send({ type: 'delete', name });
    return this.expect('deleted');
  }

  send(message: ClientMessageInput): void {
    this.#socket.write(encodeFrameHeader(message));
  }

  /** No idle timeout from now on (a chat waits for people, who may be quiet for a long time). */
  keepAlive(): void {
    this.#socket.setTimeout(0);
    this.#socket.setKeepAlive(true, 30_000);
  }

  /** The next message from the server, whatever its type; null when the server closed the connection. */
  async nextMessage(): Promise<ServerMessage | null> {
    const result = await this.#events.next().catch((error: unknown) => {
      throw asLabError(error);
    });
    if (result.done) return null;
    if (result.value.kind !== 'message') throw new LabError('LAB_ERR_UNEXPECTED_MESSAGE', 'file bytes where a message was expected');
    return result.value.message;
  }

  async #next(): Promise<ReadEvent<ServerMessage>> {
    const result = await this.#events.next().catch((error: unknown) => {
      throw asLabError(error);
    });
    if (result.done) throw new LabError('LAB_ERR_CONNECTION', 'the server closed the connection');
    return result.value;
  }

  /** The next message, which must be of `type`; an `error` reply becomes a LabError with its code. */
  async expect<T extends ServerMessage['type']>(type: T): Promise<Message<T>> {
    const event = await this.#next();
    if (event.kind !== 'message') throw new LabError('LAB_ERR_UNEXPECTED_MESSAGE', `expected ${type}, got file bytes`);
    const message = event.message;
    if (message.type === 'error') throw new LabError(message.code, `server: ${message.message}`);
    if (message.type !== type) throw new LabError('LAB_ERR_UNEXPECTED_MESSAGE', `expected ${type}, got ${message.type}`);
    return message as Message<T>;
  }

  /**
   * Half-closes (FIN), then reads until the server closes its side too, so that the close is the
   * orderly four-way one (tcp(7)), not a reset; gives up after `graceMs`. Idempotent.
   */
  async close(graceMs = 5000): Promise<void> {
    if (this.#socket.destroyed) return;
    this.#socket.end();
    const drained = (async () => {
      while (!(await this.#events.next()).done);
    })().catch(() => {});
    await Promise.race([drained, sleep(graceMs, undefined, { ref: false })]);
    this.#socket.destroy();
  }

  /** Drops the connection at once (RST), as a crash or a pulled cable would. */
  abort(): void {
    this.#socket.resetAndDestroy();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

/** A failure of this machine's own file, not of the network: never retried, never "unreachable". */
export function localFileError(error: unknown, path: string): LabError {
  if (error instanceof LabError) return error;
  return new LabError('LAB_ERR_LOCAL_FILE', `${path}: ${(error as Error).message}`, { cause: error });
}

/** Sleeps as needed so that `bytes` transferred since the first call stay within `rate` per second. */
function pacer(rate: number | undefined): (bytes: number) => Promise<void> {
  if (!rate) return async () => {};
  const started = performance.now();
  return async (bytes) => {
    const aheadMs = (bytes / rate) * 1000 - (performance.now() - started);
    if (aheadMs > 1) await sleep(aheadMs);
  };
}

function connectOnce(endpoint: Endpoint, timeoutMs: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const target = endpoint.kind === 'unix' ? { path: endpoint.path } : { host: endpoint.host, port: endpoint.port };
    const socket = connect({ ...target, noDelay: true, timeout: timeoutMs });
    const onTimeout = () => socket.destroy(new LabError('LAB_ERR_TIMEOUT', `no answer to the connection request within ${timeoutMs} ms`));
    socket.once('timeout', onTimeout);
    socket.once('error', reject);
    socket.once('connect', () => {
      socket.off('error', reject);
      socket.off('timeout', onTimeout);
      socket.setTimeout(0);
      resolve(socket);
    });
  });
}
