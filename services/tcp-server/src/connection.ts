import { once } from 'node:events';
import type { Socket } from 'node:net';
import {
  bodyLengthOf,
  checkFileName,
  clientMessageSchema,
  encodeFrameHeader,
  FrameDecoder,
  LabError,
  TCP_PROTOCOL_VERSION,
  type ClientMessage,
  type ServerMessage,
} from '@lab/protocol';
import { asLabError, readFrames, writeChunk, type Logger } from '@lab/runtime';
import type { ChatMember, ChatRooms } from './chat-rooms.ts';
import { isSpaceError, type FileStore, type Upload } from './file-store.ts';

export interface ConnectionLimits {
  maxHeaderBytes: number;
  maxFileBytes: number;
  /** A frame header must complete within this long of its first byte (a slowloris guard). */
  headerTimeoutMs: number;
}

export interface ConnectionContext {
  store: FileStore;
  chat: ChatRooms;
  log: Logger;
  limits: ConnectionLimits;
  /** A connection with no traffic at all for this long is told LAB_ERR_TIMEOUT and closed. */
  idleTimeoutMs: number;
  serverName: string;
  /** True once the server is stopping: requests in progress finish, no new ones start. */
  draining: () => boolean;
}

/** What the server needs to know about a connection to stop gracefully. */
export interface ConnectionState {
  /** How logs and chat name the peer: its address and port, or unix#N for a Unix-socket client. */
  peer: string;
  /** The peer's address alone (partial uploads are capped per address); "unix" for a Unix-socket client. */
  address: string;
  /** A request is in progress (between its header and its reply). */
  busy: boolean;
}

/** Progress lines at debug level every this many bytes of a transfer. */
const PROGRESS_EVERY_BYTES = 64 * 1024 * 1024;

/** A chat member whose unread backlog passes this is disconnected (LAB_ERR_SLOW_CONSUMER). */
const MAX_CHAT_BACKLOG_BYTES = 1024 * 1024;

/**
 * Replies not yet taken by the kernel, above which the next request is not read until they are: a
 * client that pipelines requests and never reads the answers is held by TCP's flow control (its own
 * sends stall), not by the server's memory. One reply larger than this (a long listing) still goes out whole.
 */
const MAX_REPLY_BACKLOG_BYTES = 256 * 1024;

/**
 * Frames out of one connection. While a file body is streaming, other frames (chat relayed from other
 * members) are held and written after it: a frame in the middle of a body would be read as file bytes.
 */
class Output {
  readonly #socket: Socket;
  #held: Buffer[] = [];
  #heldBytes = 0;
  #inBody = false;

  constructor(socket: Socket) {
    this.#socket = socket;
  }

  frame(message: ServerMessage): void {
    if (!this.#socket.writable) return;
    const bytes = encodeFrameHeader(message);
    if (this.#inBody) {
      this.#held.push(bytes);
      this.#heldBytes += bytes.length;
    } else this.#socket.write(bytes);
  }

  /** Writes a body's header; frames are held until `endBody`. */
  beginBody(header: ServerMessage): void {
    this.#socket.write(encodeFrameHeader(header));
    this.#inBody = true;
  }

  endBody(): void {
    this.#inBody = false;
    for (const bytes of this.#held) if (this.#socket.writable) this.#socket.write(bytes);
    this.#held = [];
    this.#heldBytes = 0;
  }

  get inBody(): boolean {
    return this.#inBody;
  }

  /** Resolves once the unsent replies are back under MAX_REPLY_BACKLOG_BYTES, or the socket closed. */
  async drained(): Promise<void> {
    const socket = this.#socket;
    if (this.backlogBytes <= MAX_REPLY_BACKLOG_BYTES || socket.destroyed) return;
    const ac = new AbortController();
    try {
      await Promise.race([once(socket, 'drain', { signal: ac.signal }), once(socket, 'close', { signal: ac.signal })]);
    } finally {
      ac.abort();
    }
  }

  /** Bytes written or held but not yet taken by the kernel. */
  get backlogBytes(): number {
    return this.#socket.writableLength + this.#heldBytes;
  }
}

/**
 * One accepted connection: hello first, then requests answered one at a time, in order. A request
 * refused before its body (bad name, too large, quota) closes the connection after the error reply,
 * because the body that follows would otherwise have to be read and thrown away.
 */
export async function serveConnection(socket: Socket, ctx: ConnectionContext, state: ConnectionState): Promise<void> {
  const { peer } = state;
  const { log } = ctx;
  const decoder = new FrameDecoder<ClientMessage>({
    schema: clientMessageSchema,
    bodyLength: bodyLengthOf,
    maxHeaderBytes: ctx.limits.maxHeaderBytes,
  });
  const output = new Output(socket);
  const send = (message: ServerMessage) => output.frame(message);
  const refuse = (error: LabError) => {
    log.warn('refused', { peer, code: error.code, msg: `refused ${peer}: ${error.code} ${error.message}` });
    send({ type: 'error', code: error.code, message: error.message });
  };
  const member: ChatMember = {
    id: peer,
    send: (message) => {
      // TCP chat never drops one message and delivers the rest: a member that cannot keep up is dropped whole.
      if (output.backlogBytes <= MAX_CHAT_BACKLOG_BYTES) return send(message);
      if (!socket.writable) return;
      refuse(new LabError('LAB_ERR_SLOW_CONSUMER', `more than ${MAX_CHAT_BACKLOG_BYTES} bytes of chat unread`));
      lingeringClose(socket);
    },
  };
  let room: string | null = null;

  socket.setTimeout(ctx.idleTimeoutMs, () => {
    log.warn('idle-timeout', { peer, idleTimeoutMs: ctx.idleTimeoutMs });
    // An error frame inside a file body would be read as file bytes; the close alone says it then.
    if (!output.inBody) refuse(new LabError('LAB_ERR_TIMEOUT', `no traffic for ${ctx.idleTimeoutMs} ms`));
    lingeringClose(socket);
  });

  // Slowloris guard: once a header has begun, it must complete in time. Armed after a chunk leaves part
  // of a header buffered, cleared when the header completes (before its request is served).
  let headerTimer: NodeJS.Timeout | null = null;
  let timedOut = false;
  const clearHeaderTimer = () => {
    if (headerTimer) clearTimeout(headerTimer);
    headerTimer = null;
  };
  const watchHeader = () => {
    if (!decoder.inHeader) return clearHeaderTimer();
    headerTimer ??= setTimeout(() => {
      if (!decoder.inHeader) return;
      timedOut = true;
      refuse(new LabError('LAB_ERR_HEADER_TIMEOUT', `a header did not complete within ${ctx.limits.headerTimeoutMs} ms`));
      lingeringClose(socket);
    }, ctx.limits.headerTimeoutMs);
  };

  let greeted = false;
  let upload: Upload | null = null;
  let failure: LabError | null = null;
  const owner = {
    address: state.address,
    // Another connection resumed this upload: stop, and close (this peer is most likely gone already).
    takenOver: () => {
      refuse(new LabError('LAB_ERR_BUSY', 'another connection took this upload over (it resumed the same content)'));
      socket.destroy();
    },
  };
  let progressMark = 0;
  try {
    for await (const event of readFrames<ClientMessage>(socket, decoder, watchHeader)) {
      if (timedOut) break;
      if (event.kind === 'body') {
        await upload!.write(event.data);
        if (upload!.received >= progressMark) {
          log.debug('transfer-progress', { peer, direction: 'upload', name: upload!.request.name, bytes: upload!.request.offset + upload!.received, size: upload!.request.size });
          progressMark += PROGRESS_EVERY_BYTES;
        }
        continue;
      }
      if (event.kind === 'body-end') {
        const current = upload!;
        upload = null;
        try {
          const stored = await current.commit();
          log.info('transfer-end', { peer, direction: 'upload', ...stored, received: current.received });
          send({ type: 'stored', ...stored });
        } catch (error) {
          refuse(asLabError(error));
        }
        state.busy = false;
        if (ctx.draining()) break;
        await output.drained();
        continue;
      }
      clearHeaderTimer();
      const message = event.message;
      if (!greeted) {
        if (message.type !== 'hello') throw new LabError('LAB_ERR_UNEXPECTED_MESSAGE', `expected hello, got ${message.type}`);
        if (message.version !== TCP_PROTOCOL_VERSION) {
          throw new LabError('LAB_ERR_UNSUPPORTED_VERSION', `this server speaks version ${TCP_PROTOCOL_VERSION}, not ${message.version}`);
        }
        greeted = true;
        send({ type: 'welcome', version: TCP_PROTOCOL_VERSION, server: ctx.serverName, maxFileBytes: ctx.limits.maxFileBytes });
        continue;
      }
      if (ctx.draining()) throw new LabError('LAB_ERR_SHUTTING_DOWN', 'the server is stopping; try again later');
      state.busy = true;
      switch (message.type) {
        case 'hello':
          throw new LabError('LAB_ERR_UNEXPECTED_MESSAGE', 'hello was already exchanged');
        case 'put': {
          const badName = checkFileName(message.name);
          if (badName) throw badName;
          if (message.size > ctx.limits.maxFileBytes) {
            throw new LabError('LAB_ERR_FILE_TOO_LARGE', `${message.size} bytes is above the limit of ${ctx.limits.maxFileBytes}`);
          }
          upload = await ctx.store.beginUpload(message, owner);
          progressMark = 0;
          log.info('transfer-start', { peer, direction: 'upload', name: message.name, size: message.size, offset: message.offset });
          continue; // busy until body-end
        }
        case 'get':
          await sendFile(socket, output, ctx, message.name, message.offset, peer).catch((error: unknown) => {
            const labError = asLabError(error);
            if (socket.destroyed || !recoverable(labError)) throw labError;
            refuse(labError);
          });
          break;
        case 'list':
          send({ type: 'listing', files: await ctx.store.list() });
          break;
        case 'stat':
          await answer(ctx.store.stat(message.name).then((result) => send({ type: 'stat-result', name: message.name, ...result })), refuse);
          break;
        case 'delete':
          await answer(
            ctx.store.delete(message.name).then((removed) => {
              log.info('delete', { peer, name: message.name, removed });
              send({ type: 'deleted', name: message.name, removed });
            }),
            refuse,
          );
          break;
        case 'chat-join':
          if (room) ctx.chat.leave(member, room);
          room = message.room;
          send({ type: 'chat-joined', room, members: ctx.chat.join(member, room) });
          log.info('chat-join', { peer, room });
          break;
        case 'chat':
          if (!room) refuse(new LabError('LAB_ERR_NOT_IN_ROOM', 'send chat-join first'));
          else ctx.chat.say(member, room, message.text);
          break;
      }
      state.busy = false;
      if (ctx.draining()) break;
      await output.drained();
    }
  } catch (error) {
    const labError = asLabError(error);
    failure = labError;
    if (labError.code === 'LAB_ERR_CONNECTION' || labError.code === 'LAB_ERR_TRUNCATED') {
      log.warn('peer-vanished', { peer, code: labError.code, msg: `${peer} went away: ${labError.message}` });
    } else if (!socket.destroyed) {
      refuse(labError);
    } else {
      log.error('connection-error', { peer, code: labError.code, msg: `${peer}: ${labError.code} ${labError.message}` });
    }
  } finally {
    clearHeaderTimer();
    if (room) ctx.chat.leave(member, room);
    if (upload) {
      const received = upload.request.offset + upload.received;
      if (isSpaceError(failure)) log.info('transfer-dropped', { peer, name: upload.request.name, received, size: upload.request.size, code: failure?.code });
      else log.info('transfer-suspended', { peer, name: upload.request.name, kept: received, size: upload.request.size });
      // Settling cannot fail the connection's end: a partial that could not be settled stays counted.
      await upload.interrupt(failure).catch((error: unknown) => log.error('settle-failed', { peer, error }));
    }
    state.busy = false;
    if (!socket.destroyed) lingeringClose(socket);
  }
}

/** Errors after which the connection is still in step with the client. */
function recoverable(error: LabError): boolean {
  return ['LAB_ERR_NOT_FOUND', 'LAB_ERR_BAD_FILE_NAME', 'LAB_ERR_OFFSET_MISMATCH'].includes(error.code);
}

/** Runs a request whose refusal (bad name, not found) leaves the connection usable. */
async function answer(work: Promise<void>, refuse: (error: LabError) => void): Promise<void> {
  try {
    await work;
  } catch (error) {
    const labError = asLabError(error);
    if (!recoverable(labError)) throw labError;
    refuse(labError);
  }
}

/**
 * Sends the `file` header and then the bytes from `offset`. Once the header is out, a failure can no
 * longer be reported in-band (the client is counting body bytes), so the connection is destroyed.
 */
async function sendFile(socket: Socket, output: Output, ctx: ConnectionContext, name: string, offset: number, peer: string): Promise<void> {
  const opened = await ctx.store.openStored(name, offset);
  ctx.log.info('transfer-start', { peer, direction: 'download', ...opened.file, offset });
  output.beginBody({ type: 'file', ...opened.file, offset });
  if (opened.file.size === offset) {
    output.endBody();
    return opened.close();
  }
  const stream = opened.stream();
  let sent = 0;
  let progressMark = PROGRESS_EVERY_BYTES;
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      await writeChunk(socket, chunk).catch((error: unknown) => {
        throw new LabError('LAB_ERR_CONNECTION', (error as Error).message, { cause: error });
      });
      sent += chunk.length;
      if (sent >= progressMark) {
        ctx.log.debug('transfer-progress', { peer, direction: 'download', name, bytes: offset + sent, size: opened.file.size });
        progressMark += PROGRESS_EVERY_BYTES;
      }
    }
  } catch (error) {
    socket.destroy();
    if (error instanceof LabError) throw error;
    throw new LabError('LAB_ERR_STORAGE', `cannot read ${name}: ${(error as Error).message}`, { cause: error });
  } finally {
    stream.destroy(); // closes the file descriptor also when the client vanished mid-way
  }
  output.endBody();
  ctx.log.info('transfer-end', { peer, direction: 'download', ...opened.file, sent });
}

/** How long a refused client may go on sending before the connection is reset anyway. */
const LINGER_MS = 2000;

/**
 * Sends FIN but keeps reading and discarding what the client still sends (a body we refused) for a
 * moment. Closing with unread data makes the kernel answer with a RST (RFC 1122 §4.2.2.13), and on
 * some stacks a RST discards received data the client has not read yet: our error reply. (Linux keeps
 * it readable, so the loopback test passes either way; this is for every other peer.)
 */
export function lingeringClose(socket: Socket): void {
  socket.end();
  socket.resume();
  setTimeout(() => socket.destroy(), LINGER_MS).unref();
}
