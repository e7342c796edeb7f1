import { setImmediate as yieldToIo, setTimeout as sleep } from 'node:timers/promises';
import { waitPrecisely } from './precise-wait.ts';
import { DATAGRAM_HEADER_BYTES, decodeControl, encodeControl, endPayloadSchema, type Datagram } from '@lab/protocol';
import type { ArrivalKind, SendLateness } from '@lab/results';
import { StreamStats, type StreamSummary } from './stream-stats.ts';
import type { UdpMember } from './udp-member.ts';

export interface StreamShape {
  datagrams: number;
  /** Bytes per datagram, header included. */
  datagramBytes: number;
  /** Datagrams per second. */
  rate: number;
}

/**
 * How a sender keeps its rate (see sendStream):
 *   even:    datagram i is due at start + i/rate, but never less than minGapMs after the one before:
 *            after a stall of its host the sender catches up gently, not in a burst, and at most
 *            MAX_DEBT_GAPS gaps of it (a longer stall moves the rest of the stream later, rather than
 *            sending it faster than asked for until it is made up). A measurement stream: what the
 *            network does to it is what netem's model of an even stream says, whatever the host's
 *            timers did. (Never closer than a whole gap would be evener still, but each
 *            wake-up's own lateness then adds to every gap: 5.3 ms instead of 5 in the user-mode Linux
 *            lab, a rate 6% below the one asked for.)
 *   average: datagram i leaves at start + i/rate or as soon after as it can; behind, the sender catches
 *            up in bursts of at most MAX_BURST, as iperf3 does. For the most datagrams a second a host can
 *            send (the benchmarks), where a gap of its own for each datagram cannot be kept.
 */
export type Pacing = 'even' | 'average';

export interface SentStream {
  /** Datagrams the sender tried to send. */
  attempted: number;
  /** Datagrams the local kernel refused (ENOBUFS…): never on the network, so not counted as loss. */
  sendErrors: number;
  /** attempted - sendErrors: what receivers are measured against. */
  sent: number;
  sendMs: number;
  /** UDP payload bytes (lab header included) of every datagram the kernel took, `end` ones too. */
  bytes: number;
  /**
   * How late each datagram went out against the moment it was due (its place in the stream; with even
   * pacing, at least a whole gap after the one before): the sender's own timing error.
   */
  lateness: SendLateness;
}

/**
 * The quantiles of a list of lateness values (ms, rounded to µs): what an even pace became on this
 * host's timers. Models that depend on when datagrams leave (reordering, a rate's queue) take it from
 * here, not from the ideal.
 */
export function latenessOf(values: number[]): SendLateness {
  const sorted = Float64Array.from(values).sort();
  const at = (q: number) => (sorted.length === 0 ? 0 : Math.round(sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]! * 1000) / 1000);
  return { min: at(0), p10: at(0.1), p50: at(0.5), p90: at(0.9), p99: at(0.99), max: sorted.length === 0 ? 0 : Math.round(sorted[sorted.length - 1]! * 1000) / 1000 };
}

/** How many times, and how far apart, the end-of-stream datagram is sent: it can be lost too. */
const END_COPIES = 3;
const END_SPACING_MS = 20;

/**
 * At most this many datagrams go out in one turn of the event loop. A sender that fell behind (a timer
 * late by a GC pause, a rate above what this host can send) catches up in bursts of this size, with I/O
 * (send completions, arriving datagrams) served between them: a burst of thousands could overflow a
 * queue and create loss that is the sender's doing, not the network's.
 */
const MAX_BURST = 256;

/**
 * With even pacing, how far behind its schedule the sender catches up (in gaps, and at least a
 * millisecond): a wake-up's own lateness (0.1 ms here) is made up; a stall of the host beyond this moves
 * the rest of the stream later. Seen without it at 2000/s: a sender 100 ms late at its start caught up at
 * 0.4 ms gaps for most of its stream, 2,300 datagrams a second where 2,000 were asked for.
 */
const MAX_DEBT_GAPS = 2;

/**
 * With even pacing, the shortest gap between two datagrams (ms), for a nominal gap of `intervalMs`: the
 * gap less a slack to catch up in, a quarter of it, but at least a quarter of a millisecond and at most
 * half the gap. Under netem's jitter two datagrams a whole gap apart are reordered only if their delays
 * differ by more than the gap; three quarters of it apart, hardly more often, where back-to-back
 * datagrams are reordered half the time. The slack must also outlast each wake-up's own lateness (about
 * 0.1 ms on these hosts: timer slack and the scheduler), or the stream never gets back on its schedule:
 * at 2000/s, three quarters of a gap left 0.125 ms, and the stream ran at 1700-1800/s.
 */
export function minGapMs(intervalMs: number): number {
  // (The slack is what lets the sender get back on schedule; see MAX_DEBT_GAPS for how far.)
  const slack = Math.max(intervalMs / 4, Math.min(intervalMs / 2, 0.25));
  return intervalMs - slack;
}

/** What sendStream needs of a member: a way to send one numbered datagram. */
export type DatagramSender = Pick<UdpMember, 'send'>;

/**
 * Sends a numbered stream through the relay, paced (see Pacing): the sender waits until the next datagram
 * is due to within the kernel's timer precision (waitPrecisely), so that the gaps between sends are the
 * gaps asked for: netem's jitter then reorders only what it would reorder of an even stream, not
 * datagrams that left close together because the sender woke late. The wait blocks the thread: call this
 * from a thread (or process) that only sends. Each datagram carries the time it really left, so the
 * receiver's transit times and jitter (RFC 3550) measure the network; how late each left against the
 * moment it was due is returned: the sender's own part. Nothing is retransmitted. Ends with END_COPIES
 * `end` datagrams that tell receivers the count.
 */
export async function sendStream(sender: DatagramSender, shape: StreamShape, pacing: Pacing = 'even'): Promise<SentStream> {
  const payload = Buffer.alloc(shape.datagramBytes - DATAGRAM_HEADER_BYTES, 0x55);
  const intervalMs = 1000 / shape.rate;
  let sendErrors = 0;
  let pending = 0;
  const done = (error: Error | null) => {
    pending--;
    if (error) sendErrors++;
  };
  const late = new Array<number>(shape.datagrams);
  const started = performance.now();
  let i = 0;
  if (pacing === 'even') {
    // Due at its place in the stream, or the shortest gap after the one before, whichever is later; the
    // place in the stream moves later by whatever a stall put the sender behind beyond MAX_DEBT_GAPS.
    const shortest = minGapMs(intervalMs);
    const maxDebtMs = Math.max(1, MAX_DEBT_GAPS * intervalMs);
    let origin = started;
    let due = started;
    for (; i < shape.datagrams; i++) {
      // One turn of the event loop per datagram (the one before leaves, I/O is served), then the wait.
      await waitPrecisely(due);
      late[i] = performance.now() - due;
      pending++;
      sender.send('data', BigInt(i), payload, done);
      // The next gap counts from when this send returned, not from when it was due or began: a sender
      // put off the CPU in between (seen in the user-mode Linux lab: up to 12 ms between a datagram's
      // stamp and its departure) sent the one after it as if it had left on time, two in a burst. On a
      // connected socket the datagram has passed the interface by now (udp-member.ts, `connect`).
      const now = performance.now();
      const behind = now - (origin + (i + 1) * intervalMs);
      if (behind > maxDebtMs) origin += behind - maxDebtMs;
      due = Math.max(origin + (i + 1) * intervalMs, now + shortest);
    }
  }
  while (i < shape.datagrams) {
    const dueNow = Math.floor((performance.now() - started) / intervalMs) + 1;
    const last = Math.min(shape.datagrams, dueNow, i + MAX_BURST);
    for (; i < last; i++) {
      late[i] = performance.now() - (started + i * intervalMs);
      pending++;
      sender.send('data', BigInt(i), payload, done);
    }
    if (i >= shape.datagrams) break;
    // Behind (a full burst went out): serve I/O, then go on at once. Otherwise sleep until the next one
    // is due (polling the clock instead kept a whole core busy at any rate above 1000/s, taken from the
    // relay and receivers beside it).
    const due = started + i * intervalMs;
    if (due > performance.now()) await waitPrecisely(due);
    else await yieldToIo();
  }
  while (pending > 0) await yieldToIo();
  const sendMs = performance.now() - started;
  const sent = shape.datagrams - sendErrors;
  let bytes = sent * shape.datagramBytes;
  const end = encodeControl({ sent });
  for (let copy = 0; copy < END_COPIES; copy++) {
    sender.send('end', BigInt(shape.datagrams), end, (error) => {
      if (!error) bytes += DATAGRAM_HEADER_BYTES + end.length;
    });
    await sleep(END_SPACING_MS);
  }
  return { attempted: shape.datagrams, sendErrors, sent, sendMs, bytes, lateness: latenessOf(late) };
}

/**
 * One receiver of one stream: counts the stream's data datagrams and learns from `end` how many were
 * sent. Datagrams of other senders in the room are ignored (counted apart), so two streams never mix.
 */
export class StreamReceiver {
  readonly stats: StreamStats;
  #sender: number | null;
  #sent: number | null = null;
  #lastArrival = 0;
  otherSenders = 0;

  readonly #onArrival: ((seq: number, kind: ArrivalKind) => void) | undefined;

  /** `sender`: the stream to count; null: the first sender heard. `onArrival`: told of each arrival, as it comes. */
  constructor(sender: number | null, lateMs?: number, onArrival?: (seq: number, kind: ArrivalKind) => void) {
    this.#sender = sender;
    this.stats = new StreamStats(lateMs);
    this.#onArrival = onArrival;
  }

  onDatagram = (datagram: Datagram, arrivalUs: bigint): void => {
    if (datagram.type !== 'data' && datagram.type !== 'end') return;
    this.#sender ??= datagram.sender;
    if (datagram.sender !== this.#sender) {
      this.otherSenders++;
      return;
    }
    this.#lastArrival = performance.now();
    if (datagram.type === 'end') this.#sent ??= decodeControl(endPayloadSchema, datagram.payload)?.sent ?? null;
    else {
      const kind = this.stats.record(datagram.seq, datagram.sendTimeUs, arrivalUs);
      this.#onArrival?.(Number(datagram.seq), kind);
    }
  };

  /** How many the sender says it sent, once an `end` arrived. */
  get sent(): number | null {
    return this.#sent;
  }

  /**
   * Waits until everything announced arrived, or, after the end (or after `idleMs` of silence once the
   * stream began), `drainMs` more for stragglers; or `timeoutMs` at most.
   */
  async finish(options: { drainMs: number; idleMs: number; timeoutMs: number }): Promise<void> {
    const deadline = performance.now() + options.timeoutMs;
    let drainUntil = Infinity;
    while (performance.now() < Math.min(deadline, drainUntil)) {
      if (this.#sent !== null && this.stats.unique >= this.#sent) return;
      const silentFor = this.#lastArrival > 0 ? performance.now() - this.#lastArrival : 0;
      if (drainUntil === Infinity && (this.#sent !== null || silentFor > options.idleMs)) drainUntil = performance.now() + options.drainMs;
      await sleep(10);
    }
  }

  summary(fallbackSent: number): StreamSummary {
    return this.stats.summary(this.#sent ?? fallbackSent);
  }
}
