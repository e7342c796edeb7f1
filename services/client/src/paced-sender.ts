import { Worker } from 'node:worker_threads';
import { LabError, type ErrorCode, type JoinedPayload } from '@lab/protocol';
import type { LogLevel } from '@lab/runtime';
import type { SentStream, StreamShape } from './udp-stream.ts';
import type { UdpMemberOptions } from './udp-member.ts';

/** A member's options as the sender's thread takes them (its logger is the thread's own). */
export type PacedMemberOptions = Omit<UdpMemberOptions, 'log' | 'onDatagram'>;

/** What the main thread asks of the sender's thread (paced-sender-worker.ts), one at a time. */
export type PacedSenderCommand =
  | { kind: 'open'; member: PacedMemberOptions }
  | { kind: 'join' }
  | { kind: 'send'; shape: StreamShape }
  | { kind: 'close' };

/** What it answers, one reply to each command. */
export type PacedSenderReply =
  | { kind: 'opened'; sender: number; localPort: number }
  | { kind: 'joined'; payload: JoinedPayload }
  | { kind: 'sent'; result: SentStream }
  | { kind: 'closed' }
  | { kind: 'failed'; code: ErrorCode | null; message: string };

/**
 * A thread that sends paced streams (paced-sender-worker.ts), so that its timing and the receivers' are
 * each other's no longer: the receivers in this process's event loop stamp each arrival when it comes,
 * not after the sender's wait, and the sender wakes when its next datagram is due, not after the
 * receivers' work. On one CPU (the user-mode Linux lab) the two had shaped each other's figures: bursts of
 * sends that netem's jitter then reordered, and arrival times with the sender's waits in them. One thread
 * serves a whole experiment, one member at a time (open, join, send, close; then the next mode's): a
 * thread's start costs the user-mode kernel a second or more.
 */
export class SenderThread {
  readonly #worker: Worker;
  readonly #replies: PacedSenderReply[] = [];
  #waiting: ((reply: PacedSenderReply) => void) | null = null;
  #gone: string | null = null;

  private constructor(worker: Worker) {
    this.#worker = worker;
    worker.on('message', (reply: PacedSenderReply) => this.#deliver(reply));
    worker.on('error', (error) => this.#end(error.message));
    worker.on('exit', (code) => this.#end(`the sender's thread ended (${code})`));
  }

  static start(logLevel: LogLevel): SenderThread {
    return new SenderThread(new Worker(new URL('./paced-sender-worker.ts', import.meta.url), { workerData: { logLevel } }));
  }

  #deliver(reply: PacedSenderReply): void {
    const waiting = this.#waiting;
    this.#waiting = null;
    if (waiting) waiting(reply);
    else this.#replies.push(reply);
  }

  #end(why: string): void {
    this.#gone ??= why;
    this.#deliver({ kind: 'failed', code: null, message: why });
  }

  /** One command, and its reply (the thread answers each in turn). */
  ask(command: PacedSenderCommand): Promise<PacedSenderReply> {
    if (this.#gone) return Promise.resolve({ kind: 'failed', code: null, message: this.#gone });
    const reply = new Promise<PacedSenderReply>((resolve) => {
      const queued = this.#replies.shift();
      if (queued) resolve(queued);
      else this.#waiting = resolve;
    });
    this.#worker.postMessage(command);
    return reply;
  }

  /** Opens a member of a room on the thread: the sender of one stream. */
  async open(member: PacedMemberOptions): Promise<PacedSender> {
    const reply = await this.ask({ kind: 'open', member });
    if (reply.kind !== 'opened') throw failure(reply, 'open');
    return new PacedSender(this, reply);
  }

  /** Ends the thread (its member, if any, is closed first by its owner). */
  async stop(): Promise<void> {
    this.#gone ??= 'stopped';
    await this.#worker.terminate();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }
}

/** A room member on a SenderThread: the same verbs as UdpMember's (join, close) and the stream's send. */
export class PacedSender {
  readonly sender: number;
  readonly localPort: number;
  readonly #thread: SenderThread;
  #closed = false;

  constructor(thread: SenderThread, opened: Extract<PacedSenderReply, { kind: 'opened' }>) {
    this.#thread = thread;
    this.sender = opened.sender;
    this.localPort = opened.localPort;
  }

  async join(): Promise<JoinedPayload> {
    const reply = await this.#thread.ask({ kind: 'join' });
    if (reply.kind !== 'joined') throw failure(reply, 'join');
    return reply.payload;
  }

  /** Sends the stream (udp-stream.ts, sendStream) and resolves with what the thread sent. */
  async sendStream(shape: StreamShape): Promise<SentStream> {
    const reply = await this.#thread.ask({ kind: 'send', shape });
    if (reply.kind !== 'sent') throw failure(reply, 'send the stream');
    return reply.result;
  }

  /** Leaves the room (the thread stays, for the next member). Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#thread.ask({ kind: 'close' });
  }
}

function failure(reply: PacedSenderReply, what: string): LabError {
  if (reply.kind === 'failed') return new LabError(reply.code ?? 'LAB_ERR_CONNECTION', `the stream's sender could not ${what}: ${reply.message}`);
  return new LabError('LAB_ERR_UNEXPECTED_MESSAGE', `the stream's sender answered ${reply.kind} to ${what}`);
}
