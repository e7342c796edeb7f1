import { LIVE_SAMPLE_PREFIX, type ArrivalKind, type LiveSample } from '@lab/results';
import type { DeliveryMode } from '@lab/protocol';

/**
 * What `client experiment --live-ms N` tells while it runs (see live-sample.ts in @lab/results): TCP
 * samples as they are taken, and each UDP receiver's arrivals gathered and written every N ms, one
 * line each, so that a fast stream costs a line per receiver per period, not a line per datagram.
 */
export class LiveReporter {
  readonly periodMs: number;
  readonly #write: (line: string) => void;
  readonly #pending = new Map<string, Extract<LiveSample, { kind: 'udp' }>>();
  #timer: NodeJS.Timeout | undefined;

  /** `periodMs` 0: tells nothing (and costs nothing). */
  constructor(periodMs: number, write: (line: string) => void = (line) => process.stderr.write(line)) {
    this.periodMs = periodMs;
    this.#write = write;
  }

  get on(): boolean {
    return this.periodMs > 0;
  }

  tell(sample: LiveSample): void {
    if (this.on) this.#write(`${LIVE_SAMPLE_PREFIX}${JSON.stringify(sample)}\n`);
  }

  /** One arrival at `receiver` (1, 2, …) of the stream of `of` datagrams in `mode`. */
  arrival(mode: DeliveryMode, receiver: number, of: number, seq: number, kind: ArrivalKind): void {
    if (!this.on) return;
    const key = `${mode}/${receiver}`;
    let batch = this.#pending.get(key);
    if (!batch) this.#pending.set(key, (batch = { kind: 'udp', mode, receiver, of, arrivals: [] }));
    batch.arrivals.push([seq, kind]);
    this.#timer ??= setTimeout(() => this.flush(), this.periodMs);
  }

  /** Writes what was gathered; called by the timer, and once more when a stream is over. */
  flush(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    for (const batch of this.#pending.values()) this.tell(batch);
    this.#pending.clear();
  }
}
