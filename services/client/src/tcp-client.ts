import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import { pipeline } from 'node:stream/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  bodyLengthOf,
  encodeFrameHeader,
  FrameDecoder,
  LabError,
  serverMessageSchema,
  TCP_PROTOCOL_VERSION,
  type ClientMessage,
  type ServerMessage,
} from '@lab/protocol';
import { asLabError, readFrames, writeChunk, type Logger, type ReadEvent } from '@lab/runtime';

export interface ConnectOptions {
  host: string;
  port: number;
  log: Logger;
  /** Keep retrying a refused or failed connect for this long (the server may still be starting). */
  connectTimeoutMs?: number;
  /** Give up on one connect attempt after this long (a SYN nobody answers would take minutes). */
  attemptTimeoutMs?: number;
  /** Fail with LAB_ERR_TIMEOUT when the server sends nothing for this long while a reply is owed. */
  idleTimeoutMs?: number;
}

export interface StoredReply {
  name: string;
  size: number;
  sha256: string;
}

export interface Downloaded {
  size: number;
  /** Declared by the server in the `file` header. */
  declaredSha256: string;
  /** Computed here over the bytes that arrived. */
  sha256: string;
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
    const { host, port, log, connectTimeoutMs = 15_000, attemptTimeoutMs = 3000, idleTimeoutMs = 30_000 } = options;
    const deadline = Date.now() + connectTimeoutMs;
    let delayMs = 100;
    for (let attempt = 1; ; attempt++) {
      let socket: Socket;
      try {
        socket = await connectOnce(host, port, attemptTimeoutMs);
      } catch (error) {
        const labError = asLabError(error);
        if (Date.now() + delayMs > deadline) {
          throw new LabError('LAB_ERR_CONNECT', `cannot connect to ${host}:${port} after ${attempt} attempts: ${labError.message}`, { cause: error });
        }
        log.debug('connect-retry', { host, port, attempt, error: labError.message });
        await sleep(delayMs);
        delayMs = Math.min(delayMs * 2, 1000);
        continue;
      }
      // connect(2) picked an ephemeral local port (ip(7): ip_local_port_range); show it for teaching.
      log.info('connect', {
        msg: `connected ${socket.localAddress}:${socket.localPort} -> ${socket.remoteAddress}:${socket.remotePort}`,
        localPort: socket.localPort,
        attempt,
      });
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
    this.#send({ type: 'hello', version: TCP_PROTOCOL_VERSION, agent: 'lab-client' });
    const welcome = await this.#expect('welcome');
    this.#log.debug('welcome', { ...welcome });
  }

  /** Streams a local file as `name`; resolves with what the server stored (after its SHA-256 check). */
  async upload(path: string, name: string, size: number, sha256: string): Promise<StoredReply> {
    this.#send({ type: 'put', name, size, sha256 });
    // The reply is awaited while the body is still being sent: a server that refuses early replies at
    // once and closes, and its reason must win over the EPIPE our write then gets.
    const reply = this.#expect('stored');
    const sending = pipeline(createReadStream(path), this.#socket, { end: false });
    const [replied, sent] = await Promise.allSettled([reply, sending]);
    if (replied.status === 'rejected') throw asLabError(replied.reason);
    if (sent.status === 'rejected') throw asLabError(sent.reason);
    return replied.value;
  }

  /** Fetches `name` into `path`, hashing the bytes as they arrive; disk writes pace the socket. */
  async download(name: string, path: string): Promise<Downloaded> {
    this.#send({ type: 'get', name });
    const header = await this.#expect('file');
    const hash = createHash('sha256');
    const out = createWriteStream(path);
    out.on('error', () => {}); // surfaced by writeChunk and the close below
    let size = 0;
    try {
      for (;;) {
        const event = await this.#next();
        if (event.kind === 'body-end') break;
        if (event.kind !== 'body') throw new LabError('LAB_ERR_UNEXPECTED_MESSAGE', `expected file bytes, got ${event.message.type}`);
        size += event.data.length;
        hash.update(event.data);
        await writeChunk(out, event.data);
      }
      out.end();
      await once(out, 'close');
    } catch (error) {
      out.destroy();
      throw error;
    }
    return { size, declaredSha256: header.sha256, sha256: hash.digest('hex') };
  }

  #send(message: ClientMessage): void {
    this.#socket.write(encodeFrameHeader(message));
  }

  async #next(): Promise<ReadEvent<ServerMessage>> {
    const result = await this.#events.next().catch((error: unknown) => {
      throw asLabError(error);
    });
    if (result.done) throw new LabError('LAB_ERR_CONNECTION', 'the server closed the connection');
    return result.value;
  }

  /** The next message, which must be of `type`; an `error` reply becomes a LabError with its code. */
  async #expect<T extends ServerMessage['type']>(type: T): Promise<Extract<ServerMessage, { type: T }>> {
    const event = await this.#next();
    if (event.kind !== 'message') throw new LabError('LAB_ERR_UNEXPECTED_MESSAGE', `expected ${type}, got file bytes`);
    const message = event.message;
    if (message.type === 'error') throw new LabError(message.code, `server: ${message.message}`);
    if (message.type !== type) throw new LabError('LAB_ERR_UNEXPECTED_MESSAGE', `expected ${type}, got ${message.type}`);
    return message as Extract<ServerMessage, { type: T }>;
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

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

function connectOnce(host: string, port: number, timeoutMs: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port, noDelay: true, timeout: timeoutMs });
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
