import { Worker } from 'node:worker_threads';
import { LabError, type ErrorCode, type JoinedPayload } from '@lab/protocol';
import type { LogLevel } from '@lab/runtime';
import type { SentStream, StreamShape } from './udp-stream.ts';
import type { UdpMemberOptions } from './udp-member.ts';

/** What the sender's thread is given: its member's options (the logger is its own) and how much it logs. */
export interface PacedSenderSetup {
  member: Omit<UdpMemberOptions, 'log' | 'onDatagram'>;
  logLevel: LogLevel;
}

export type PacedSenderCommand = { kind: 'join' } | { kind: 'send'; shape: StreamShape } | { kind: 'close' };
export type PacedSenderReply =
  | { kind: 'opened'; sender: number; localPort: number }
  | { kind: 'joined'; payload: JoinedPayload }
  | { kind: 'sent'; result: SentStream }
  | { kind: 'closed' }
  | { kind: 'failed'; code: ErrorCode | null; message: string };

/**
 * A room member that sends a paced stream from a thread of its own (paced-sender-worker.ts), so that its
 * timing and the receivers' are each other's no longer: the receivers in this process's event loop stamp
 * each arrival when it comes, not after the sender's wait, and the sender wakes when its next datagram
 * is due, not after the receivers' work. On one CPU (the user-mode Linux lab) the two had shaped each
 * other's figures: bursts of sends that netem's jitter then reordered, and arrival times with the
 * sender's waits in them. The same verbs as UdpMember's: open, join, send a stream, close.
 */
export class PacedSender {
  readonly sender: number;
  readonly localPort: number;
  readonly #worker: Worker;
  readonly #replies: PacedSenderReply[] = [];
  #waiting: ((reply: PacedSenderReply) => void) | null = null;
  #closed = false;

  private constructor(worker: Worker, opened: Extract<PacedSenderReply, { kind: 'opened' }>) {
    this.#worker = worker;
    this.sender = opened.sender;
    this.localPort = opened.localPort;
    worker.on('message', (reply: PacedSenderReply) => this.#deliver(reply));
  }

  #deliver(reply: PacedSenderReply): void {
    const waiting = this.#waiting;
    this.#waiting = null;
    if (waiting) waiting(reply);
    else this.#replies.push(reply);
  }

  static async open(setup: PacedSenderSetup): Promise<PacedSender> {
    const worker = new Worker(new URL('./paced-sender-worker.ts', import.meta.url), { workerData: setup });
    const first = await new Promise<PacedSenderReply>((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    }).catch((error: unknown) => ({ kind: 'failed' as const, code: null, message: error instanceof Error ? error.message : String(error) }));
    if (first.kind !== 'opened') {
      await worker.terminate();
      throw failure(first, 'open the sender');
    }
    const sender = new PacedSender(worker, first);
    worker.on('error', (error) => sender.#deliver({ kind: 'failed', code: null, message: error.message }));
    worker.on('exit', (code) => sender.#deliver({ kind: 'failed', code: null, message: `the sender's thread ended (${code})` }));
    return sender;
  }

  /** One command, and its reply (the thread answers each in turn). */
  async #ask(command: PacedSenderCommand): Promise<PacedSenderReply> {
    const reply = new Promise<PacedSenderReply>((resolve) => {
      const queued = this.#replies.shift();
      if (queued) resolve(queued);
      else this.#waiting = resolve;
    });
    this.#worker.postMessage(command);
    return reply;
  }

  async join(): Promise<JoinedPayload> {
    const reply = await this.#ask({ kind: 'join' });
    if (reply.kind !== 'joined') throw failure(reply, 'join');
    return reply.payload;
  }

  /** Sends the stream (udp-stream.ts, sendStream) and resolves with what the thread sent. */
  async sendStream(shape: StreamShape): Promise<SentStream> {
    const reply = await this.#ask({ kind: 'send', shape });
    if (reply.kind !== 'sent') throw failure(reply, 'send the stream');
    return reply.result;
  }

  /** Leaves the room and ends the thread. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#ask({ kind: 'close' }).catch(() => {});
    await this.#worker.terminate();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

function failure(reply: PacedSenderReply, what: string): LabError {
  if (reply.kind === 'failed') return new LabError(reply.code ?? 'LAB_ERR_CONNECTION', `the stream's sender could not ${what}: ${reply.message}`);
  return new LabError('LAB_ERR_UNEXPECTED_MESSAGE', `the stream's sender answered ${reply.kind} to ${what}`);
}
