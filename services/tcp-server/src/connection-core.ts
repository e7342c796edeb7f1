import { checkFileName, LabError, TCP_PROTOCOL_VERSION, type ClientMessage, type ServerMessage } from '@lab/protocol';
import type { UploadRequest } from './file-store.ts';

/**
 * What the core asks of the glue around it (connection.ts): each piece of work touches the disk or the
 * other members, and ends in `done` with its result or in `failed` with its error.
 */
export type Work =
  | { kind: 'begin-upload'; request: UploadRequest }
  | { kind: 'commit-upload' }
  | { kind: 'send-file'; name: string; offset: number }
  | { kind: 'list' }
  | { kind: 'stat'; name: string }
  | { kind: 'delete'; name: string }
  | { kind: 'chat-join'; room: string; leaving: string | null }
  | { kind: 'chat-say'; room: string; text: string };

type Message<T extends ServerMessage['type']> = Extract<ServerMessage, { type: T }>;

/** The outcome of a piece of work, as the reply needs it. */
export type WorkResult =
  | { kind: 'begin-upload' }
  | { kind: 'commit-upload'; stored: Omit<Message<'stored'>, 'type'> }
  | { kind: 'send-file' }
  | { kind: 'list'; files: Message<'listing'>['files'] }
  | { kind: 'stat'; result: Omit<Message<'stat-result'>, 'type' | 'name'> }
  | { kind: 'delete'; removed: number }
  | { kind: 'chat-join'; members: number }
  | { kind: 'chat-say' };

/** What the glue does next, in order. */
export type Action =
  | { kind: 'send'; message: ServerMessage }
  /**
   * Tell the peer this error (an `error` frame) and log it. `final`: the connection ends for it (if the
   * peer is gone by then, the error is the connection's, logged, not told).
   */
  | { kind: 'refuse'; error: LabError; final?: boolean }
  /** The peer went away (reset, or the stream ended inside a frame): nothing to tell it. */
  | { kind: 'vanished'; error: LabError }
  | { kind: 'work'; work: Work }
  /** Stop reading and close (after the replies already written). */
  | { kind: 'close' };

export interface CoreOptions {
  maxFileBytes: number;
  serverName: string;
  /** True once the server is stopping: requests in progress finish, no new ones start. */
  draining: () => boolean;
}

type Phase = 'hello' | 'ready' | 'working' | 'receiving' | 'closed';

/** Errors after which the connection is still in step with the client: the request had no body. */
const RECOVERABLE = new Set(['LAB_ERR_NOT_FOUND', 'LAB_ERR_BAD_FILE_NAME', 'LAB_ERR_OFFSET_MISMATCH']);

/**
 * One connection's protocol decisions, without a socket, a file or a timer (as the relay's RelayCore):
 * events in (a message, the end of a body, a piece of work done or failed, a timeout), actions out.
 * Hello first; then requests one at a time, in order. A request refused before its body (bad name, too
 * large, quota, disk full) closes the connection after the error reply, because the body that follows
 * could not be told from a next request; a refused request without a body leaves it open.
 */
export class ConnectionCore {
  readonly #options: CoreOptions;
  #phase: Phase = 'hello';
  /** The work asked for and not yet done or failed. */
  #work: Work | null = null;
  #room: string | null = null;

  constructor(options: CoreOptions) {
    this.#options = options;
  }

  /** A request is in progress (between its header and its reply): a stopping server lets it finish. */
  get busy(): boolean {
    return this.#phase === 'working' || this.#phase === 'receiving';
  }

  get closed(): boolean {
    return this.#phase === 'closed';
  }

  /** The chat room this connection is in, if any. */
  get room(): string | null {
    return this.#room;
  }

  /** A complete frame header from the client. */
  message(message: ClientMessage): Action[] {
    if (this.#phase === 'closed') return [];
    if (this.#phase === 'hello') return this.#hello(message);
    if (this.#options.draining()) return this.#fail(new LabError('LAB_ERR_SHUTTING_DOWN', 'the server is stopping; try again later'));
    switch (message.type) {
      case 'hello':
        return this.#fail(new LabError('LAB_ERR_UNEXPECTED_MESSAGE', 'hello was already exchanged'));
      case 'put': {
        const refusal = checkFileName(message.name) ?? this.#tooLarge(message.size);
        if (refusal) return this.#fail(refusal);
        const { name, size, sha256, offset } = message;
        return this.#start({ kind: 'begin-upload', request: { name, size, sha256, offset } });
      }
      case 'get':
        return this.#start({ kind: 'send-file', name: message.name, offset: message.offset });
      case 'list':
        return this.#start({ kind: 'list' });
      case 'stat':
        return this.#start({ kind: 'stat', name: message.name });
      case 'delete':
        return this.#start({ kind: 'delete', name: message.name });
      case 'chat-join':
        return this.#start({ kind: 'chat-join', room: message.room, leaving: this.#room });
      case 'chat':
        if (!this.#room) return [{ kind: 'refuse', error: new LabError('LAB_ERR_NOT_IN_ROOM', 'send chat-join first') }, ...this.#finish()];
        return this.#start({ kind: 'chat-say', room: this.#room, text: message.text });
    }
  }

  /** The last byte of an upload's body arrived. */
  bodyEnd(): Action[] {
    if (this.#phase !== 'receiving') return [];
    return this.#start({ kind: 'commit-upload' });
  }

  /** The work asked for last is done. */
  done(result: WorkResult): Action[] {
    const work = this.#work;
    this.#work = null;
    if (work?.kind !== result.kind) throw new Error(`${result.kind} is done, but ${work?.kind ?? 'nothing'} was asked for`);
    // The member is in the room now, even if the connection closed meanwhile: the glue must leave it.
    if (work.kind === 'chat-join') this.#room = work.room;
    if (this.#phase === 'closed') return [];
    switch (result.kind) {
      case 'begin-upload':
        this.#phase = 'receiving'; // busy until the body ends
        return [];
      case 'commit-upload':
        return [{ kind: 'send', message: { type: 'stored', ...result.stored } }, ...this.#finish()];
      case 'list':
        return [{ kind: 'send', message: { type: 'listing', files: result.files } }, ...this.#finish()];
      case 'stat':
        return [{ kind: 'send', message: { type: 'stat-result', name: (work as Extract<Work, { kind: 'stat' }>).name, ...result.result } }, ...this.#finish()];
      case 'delete':
        return [{ kind: 'send', message: { type: 'deleted', name: (work as Extract<Work, { kind: 'delete' }>).name, removed: result.removed } }, ...this.#finish()];
      case 'chat-join':
        return [{ kind: 'send', message: { type: 'chat-joined', room: this.#room!, members: result.members } }, ...this.#finish()];
      case 'send-file':
      case 'chat-say':
        return this.#finish();
    }
  }

  /**
   * The work asked for last failed. A refused commit (hash, space) and a refused request without a body
   * leave the connection in step; anything else closes it.
   */
  failed(error: LabError): Action[] {
    if (this.#phase === 'closed') return [];
    const work = this.#work;
    this.#work = null;
    const inStep = work?.kind === 'commit-upload' || (['send-file', 'stat', 'delete'].includes(work?.kind ?? '') && RECOVERABLE.has(error.code));
    if (inStep) return [{ kind: 'refuse', error }, ...this.#finish()];
    return this.#fail(error);
  }

  /** The stream broke: a malformed frame, a reset, the end inside a frame, a body the disk refused. */
  broken(error: LabError): Action[] {
    if (this.#phase === 'closed') return [];
    return this.#fail(error);
  }

  /** A header began and did not complete in time (a slowloris guard). */
  headerTimeout(ms: number): Action[] {
    if (this.#phase === 'closed') return [];
    return this.#fail(new LabError('LAB_ERR_HEADER_TIMEOUT', `a header did not complete within ${ms} ms`));
  }

  /**
   * No traffic at all for `ms`. Inside a file body going out (`inBody`), an error frame would be read
   * as file bytes: the close alone says it.
   */
  idleTimeout(ms: number, inBody: boolean): Action[] {
    if (this.#phase === 'closed') return [];
    if (inBody) {
      this.#phase = 'closed';
      return [{ kind: 'close' }];
    }
    return this.#fail(new LabError('LAB_ERR_TIMEOUT', `no traffic for ${ms} ms`));
  }

  #hello(message: ClientMessage): Action[] {
    if (message.type !== 'hello') return this.#fail(new LabError('LAB_ERR_UNEXPECTED_MESSAGE', `expected hello, got ${message.type}`));
    if (message.version !== TCP_PROTOCOL_VERSION) {
      return this.#fail(new LabError('LAB_ERR_UNSUPPORTED_VERSION', `this server speaks version ${TCP_PROTOCOL_VERSION}, not ${message.version}`));
    }
    this.#phase = 'ready';
    return [{ kind: 'send', message: { type: 'welcome', version: TCP_PROTOCOL_VERSION, server: this.#options.serverName, maxFileBytes: this.#options.maxFileBytes } }];
  }

  #tooLarge(size: number): LabError | null {
    const max = this.#options.maxFileBytes;
    return size > max ? new LabError('LAB_ERR_FILE_TOO_LARGE', `${size} bytes is above the limit of ${max}`) : null;
  }

  #start(work: Work): Action[] {
    this.#phase = 'working';
    this.#work = work;
    return [{ kind: 'work', work }];
  }

  /** A request is complete: ready for the next, unless the server is stopping. */
  #finish(): Action[] {
    if (this.#options.draining()) {
      this.#phase = 'closed';
      return [{ kind: 'close' }];
    }
    this.#phase = 'ready';
    return [];
  }

  #fail(error: LabError): Action[] {
    this.#phase = 'closed'; // work in progress may still end: done/failed then decide nothing more
    const vanished = error.code === 'LAB_ERR_CONNECTION' || error.code === 'LAB_ERR_TRUNCATED';
    return [vanished ? { kind: 'vanished', error } : { kind: 'refuse', error, final: true }, { kind: 'close' }];
  }
}
