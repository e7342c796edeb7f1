import { once } from 'node:events';
import type { Socket } from 'node:net';
import { bodyLengthOf, clientMessageSchema, encodeFrameHeader, FrameDecoder, LabError, type ClientMessage, type ServerMessage } from '@lab/protocol';
import type { Logger } from '@lab/runtime';
import { asLabError, readFrames, writeChunk } from '@lab/stream-io';
import type { ChatMember, ChatRooms } from './chat-rooms.ts';
import { ConnectionCore, type Action, type Work, type WorkResult } from './connection-core.ts';
import { isSpaceError, type FileStore, type Upload, type UploadOwner } from './file-store.ts';

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

/** Runs one accepted connection until it ends; the protocol's decisions are `ConnectionCore`'s. */
export async function serveConnection(socket: Socket, ctx: ConnectionContext, state: ConnectionState): Promise<void> {
  await new Connection(socket, ctx, state).run();
}

/**
 * The socket glue around a `ConnectionCore`: it decodes frames into the core's events, carries out the
 * core's actions (replies, work on the store and the chat rooms, closing), streams upload bodies to
 * disk and file bodies out, and keeps the two timers (idle, and the header guard against slowloris).
 */
class Connection {
  readonly #socket: Socket;
  readonly #ctx: ConnectionContext;
  readonly #state: ConnectionState;
  readonly #core: ConnectionCore;
  readonly #output: Output;
  readonly #decoder: FrameDecoder<ClientMessage>;
  readonly #member: ChatMember;
  #headerTimer: NodeJS.Timeout | null = null;
  #upload: Upload | null = null;
  #progressMark = 0;
  /** Why the connection ended early, if it did: an upload stopped for want of space is dropped, not kept. */
  #failure: LabError | null = null;

  constructor(socket: Socket, ctx: ConnectionContext, state: ConnectionState) {
    this.#socket = socket;
    this.#ctx = ctx;
    this.#state = state;
    this.#core = new ConnectionCore({ maxFileBytes: ctx.limits.maxFileBytes, serverName: ctx.serverName, draining: ctx.draining });
    this.#output = new Output(socket);
    this.#decoder = new FrameDecoder<ClientMessage>({ schema: clientMessageSchema, bodyLength: bodyLengthOf, maxHeaderBytes: ctx.limits.maxHeaderBytes });
    this.#member = {
      id: state.peer,
      send: (message) => {
        // TCP chat never drops one message and delivers the rest: a member that cannot keep up is dropped whole.
        if (this.#output.backlogBytes <= MAX_CHAT_BACKLOG_BYTES) return this.#output.frame(message);
        if (!socket.writable) return;
        this.#refuse(new LabError('LAB_ERR_SLOW_CONSUMER', `more than ${MAX_CHAT_BACKLOG_BYTES} bytes of chat unread`));
        lingeringClose(socket);
      },
    };
  }

  async run(): Promise<void> {
    const { log, idleTimeoutMs } = this.#ctx;
    this.#socket.setTimeout(idleTimeoutMs, () => {
      if (this.#core.closed) return;
      log.warn('idle-timeout', { peer: this.#state.peer, idleTimeoutMs });
      this.#fromTimer(this.#core.idleTimeout(idleTimeoutMs, this.#output.inBody));
    });
    try {
      for await (const event of readFrames<ClientMessage>(this.#socket, this.#decoder, () => this.#watchHeader())) {
        if (this.#core.closed) break;
        if (event.kind === 'body') await this.#receive(event.data);
        else if (event.kind === 'body-end') await this.#perform(this.#core.bodyEnd());
        else {
          this.#clearHeaderTimer();
          await this.#perform(this.#core.message(event.message));
        }
        if (this.#core.closed) break;
        if (!this.#core.busy) await this.#output.drained();
      }
    } catch (error) {
      // Kept even when the core has already closed (a timeout during a stalled write): an upload stopped
      // for want of space must still be dropped, not kept.
      this.#failure = asLabError(error);
      await this.#perform(this.#core.broken(this.#failure));
    } finally {
      await this.#end();
    }
  }

  /** One slice of an upload's body: to disk, with backpressure (the next slice is read once it is taken). */
  async #receive(data: Buffer): Promise<void> {
    const upload = this.#upload!;
    await upload.write(data);
    if (upload.received >= this.#progressMark) {
      const { name, offset, size } = upload.request;
      this.#ctx.log.debug('transfer-progress', { peer: this.#state.peer, direction: 'upload', name, bytes: offset + upload.received, size });
      this.#progressMark += PROGRESS_EVERY_BYTES;
    }
  }

  /**
   * Carries out what the core decided while the read loop waits for data (a timer fired): a close must
   * happen now, since the loop may wait for a peer that sends nothing more.
   */
  #fromTimer(actions: Action[]): void {
    this.#perform(actions)
      .then(() => {
        if (this.#core.closed) lingeringClose(this.#socket);
      })
      .catch((error: unknown) => this.#ctx.log.error('connection-failed', { peer: this.#state.peer, error }));
  }

  /**
   * Carries out the core's actions in order; the result of each piece of work goes back to the core.
   * A `close` stops the read loop; the socket is closed when the connection ends (`#end`), after the
   * upload is settled and the room left, so that a client reconnecting at once finds them done.
   */
  async #perform(actions: Action[]): Promise<void> {
    for (const action of actions) {
      switch (action.kind) {
        case 'send':
          this.#output.frame(action.message);
          break;
        case 'refuse':
          if (action.final) this.#failure = action.error;
          this.#refuse(action.error, action.final);
          break;
        case 'vanished': {
          this.#failure = action.error;
          const { peer } = this.#state;
          this.#ctx.log.warn('peer-vanished', { peer, code: action.error.code, msg: `${peer} went away: ${action.error.message}` });
          break;
        }
        case 'work': {
          this.#state.busy = true; // a stopping server lets this request finish
          const next = await this.#do(action.work).then(
            (result) => this.#core.done(result),
            (error: unknown) => this.#core.failed(asLabError(error)),
          );
          await this.#perform(next);
          break;
        }
        case 'close':
          this.#clearHeaderTimer();
          break;
      }
    }
    this.#state.busy = this.#core.busy;
  }

  /** One piece of work on the store or the chat rooms, logged as the server's lifecycle says. */
  async #do(work: Work): Promise<WorkResult> {
    const { store, chat, log } = this.#ctx;
    const { peer } = this.#state;
    switch (work.kind) {
      case 'begin-upload':
        this.#upload = await store.beginUpload(work.request, this.#owner());
        this.#progressMark = 0;
        log.info('transfer-start', { peer, direction: 'upload', name: work.request.name, size: work.request.size, offset: work.request.offset });
        return { kind: 'begin-upload' };
      case 'commit-upload': {
        const upload = this.#upload!;
        this.#upload = null;
        const stored = await upload.commit();
        log.info('transfer-end', { peer, direction: 'upload', ...stored, received: upload.received });
        return { kind: 'commit-upload', stored };
      }
      case 'send-file':
        await sendFile(this.#socket, this.#output, this.#ctx, work.name, work.offset, peer);
        return { kind: 'send-file' };
      case 'list':
        return { kind: 'list', files: await store.list() };
      case 'stat':
        return { kind: 'stat', result: await store.stat(work.name) };
      case 'delete': {
        const removed = await store.delete(work.name);
        log.info('delete', { peer, name: work.name, removed });
        return { kind: 'delete', removed };
      }
      case 'chat-join': {
        if (work.leaving) chat.leave(this.#member, work.leaving);
        const members = chat.join(this.#member, work.room);
        log.info('chat-join', { peer, room: work.room });
        return { kind: 'chat-join', members };
      }
      case 'chat-say':
        chat.say(this.#member, work.room, work.text);
        return { kind: 'chat-say' };
    }
  }

  /** Who this connection's upload belongs to, and what happens when another connection takes it over. */
  #owner(): UploadOwner {
    return {
      address: this.#state.address,
      // A connection from the same address resumed this upload: stop, and close (this peer is most likely gone).
      takenOver: () => {
        this.#refuse(new LabError('LAB_ERR_BUSY', 'another connection took this upload over (it resumed the same content)'));
        this.#socket.destroy();
      },
    };
  }

  /** Tells the peer an error; one that ends a connection whose peer is already gone is only logged. */
  #refuse(error: LabError, final = false): void {
    const { peer } = this.#state;
    if (final && this.#socket.destroyed) {
      this.#ctx.log.error('connection-error', { peer, code: error.code, msg: `${peer}: ${error.code} ${error.message}` });
      return;
    }
    this.#ctx.log.warn('refused', { peer, code: error.code, msg: `refused ${peer}: ${error.code} ${error.message}` });
    this.#output.frame({ type: 'error', code: error.code, message: error.message });
  }

  /**
   * Slowloris guard: once a frame has begun, its header must complete in time. Armed after a chunk leaves
   * part of a header buffered, cleared when the header completes (before its request is served).
   */
  #watchHeader(): void {
    if (!this.#decoder.inHeader) return this.#clearHeaderTimer();
    const ms = this.#ctx.limits.headerTimeoutMs;
    this.#headerTimer ??= setTimeout(() => {
      if (this.#decoder.inHeader) this.#fromTimer(this.#core.headerTimeout(ms));
    }, ms);
  }

  #clearHeaderTimer(): void {
    if (this.#headerTimer) clearTimeout(this.#headerTimer);
    this.#headerTimer = null;
  }

  /** Leaves the chat room, keeps (or, for want of space, drops) an unfinished upload, and closes. */
  async #end(): Promise<void> {
    const { log } = this.#ctx;
    const { peer } = this.#state;
    this.#clearHeaderTimer();
    if (this.#core.room) this.#ctx.chat.leave(this.#member, this.#core.room);
    const upload = this.#upload;
    if (upload) {
      const { name, offset, size } = upload.request;
      const received = offset + upload.received;
      if (isSpaceError(this.#failure)) log.info('transfer-dropped', { peer, name, received, size, code: this.#failure?.code });
      else log.info('transfer-suspended', { peer, name, kept: received, size });
      // Settling cannot fail the connection's end: a partial that could not be settled stays counted.
      await upload.interrupt(this.#failure).catch((error: unknown) => log.error('settle-failed', { peer, error }));
    }
    this.#state.busy = false;
    // (Again, if a timer closed it already: only now, with the reader gone, does resume() make the
    // socket flow and discard what the client still sends.)
    if (!this.#socket.destroyed) lingeringClose(this.#socket);
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
  if (lingering.has(socket)) return;
  lingering.add(socket);
  setTimeout(() => socket.destroy(), LINGER_MS).unref();
}

const lingering = new WeakSet<Socket>();
