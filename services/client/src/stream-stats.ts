import type { ArrivalKind } from '@lab/results';

/**
 * What one receiver saw of one sequenced stream, counted as iperf3 does (`src/iperf_udp.c`) with one
 * difference: iperf3 assumes datagrams are never duplicated, but netem and real networks can duplicate
 * them, so duplicates are counted apart and never offset losses.
 *
 * - received: every datagram that arrived, duplicates included;
 * - unique: distinct sequence numbers that arrived;
 * - duplicates: arrivals of a sequence number already seen;
 * - outOfOrder: first arrivals of a number lower than the highest seen before it (a reordering);
 * - late: first arrivals whose transit time (arrival - send) exceeds the smallest transit seen so far
 *   by more than `lateMs`: for real-time media a datagram that late is as useless as a lost one;
 * - lost (in `summary`): sent minus unique, known only once the sender says how many it sent;
 * - jitter: RFC 3550 §6.4.1 / A.8 interarrival jitter, J += (|D| - J) / 16, where D is the change in
 *   transit time (arrival - send time) between consecutive arrivals. Sender and receiver clocks need not
 *   agree: a constant offset cancels out in D. Its last value is the one reported (as iperf3 does);
 * - jitterP50, jitterP99: J's median over the stream (its value after each arrival) and how high it went
 *   (its 99th percentile): one stall of the host near the stream's end moves the last value; these say
 *   what J is most of the time, and how high the host's stalls lift it.
 */
export class StreamStats {
  readonly #lateUs: number;
  #seen = new Set<bigint>();
  #late = 0;
  #minTransitUs = Infinity;
  #received = 0;
  #duplicates = 0;
  #outOfOrder = 0;
  #highest: bigint | null = null;
  #lastTransitUs: number | null = null;
  #jitterUs = 0;
  /** J after each arrival, in bins of JITTER_BIN_US (the last bin holds everything above). */
  readonly #jitterBins = new Uint32Array(JITTER_BINS);
  #jitterSamples = 0;

  /** `lateMs`: how much longer than the fastest datagram's transit a datagram may take (a playout buffer). */
  constructor(lateMs = 50) {
    this.#lateUs = lateMs * 1000;
  }

  /**
   * Counts one arrival and says what it was: a duplicate, else reordered, else late, else received
   * (a reordered arrival that is also late is counted in both, and called reordered).
   */
  record(seq: bigint, sendTimeUs: bigint, arrivalUs: bigint): ArrivalKind {
    this.#received++;
    if (this.#seen.has(seq)) {
      this.#duplicates++;
      return 'duplicate';
    }
    this.#seen.add(seq);
    const reordered = this.#highest !== null && seq < this.#highest;
    if (reordered) this.#outOfOrder++;
    else this.#highest = seq;
    const transitUs = Number(arrivalUs - sendTimeUs);
    this.#minTransitUs = Math.min(this.#minTransitUs, transitUs);
    const late = transitUs - this.#minTransitUs > this.#lateUs;
    if (late) this.#late++;
    if (this.#lastTransitUs !== null) {
      this.#jitterUs += (Math.abs(transitUs - this.#lastTransitUs) - this.#jitterUs) / 16;
      this.#jitterBins[Math.min(JITTER_BINS - 1, Math.floor(this.#jitterUs / JITTER_BIN_US))]!++;
      this.#jitterSamples++;
    }
    this.#lastTransitUs = transitUs;
    return reordered ? 'reordered' : late ? 'late' : 'received';
  }

  get unique(): number {
    return this.#seen.size;
  }

  /** How many were sent at least, judging by the highest number seen (streams count from 0). */
  get atLeastSent(): number {
    return this.#highest === null ? 0 : Number(this.#highest) + 1;
  }

  /** A quantile of J over the stream, in ms (the upper edge of its bin). */
  #jitterQuantileMs(q: number): number {
    const rank = Math.ceil(q * this.#jitterSamples);
    let seen = 0;
    for (let bin = 0; bin < JITTER_BINS; bin++) {
      seen += this.#jitterBins[bin]!;
      if (seen >= rank && rank > 0) return ((bin + 1) * JITTER_BIN_US) / 1000;
    }
    return 0;
  }

  summary(sent: number): StreamSummary {
    const unique = this.#seen.size;
    const lost = Math.max(0, sent - unique);
    return {
      sent,
      received: this.#received,
      unique,
      lost,
      lossPercent: sent === 0 ? 0 : (100 * lost) / sent,
      duplicates: this.#duplicates,
      outOfOrder: this.#outOfOrder,
      late: this.#late,
      jitterMs: this.#jitterUs / 1000,
      jitterP50Ms: this.#jitterQuantileMs(0.5),
      jitterP99Ms: this.#jitterQuantileMs(0.99),
    };
  }
}

/** J's histogram: bins of 10 µs up to 1 s. */
const JITTER_BIN_US = 10;
const JITTER_BINS = 100_000;

export interface StreamSummary {
  sent: number;
  received: number;
  unique: number;
  lost: number;
  lossPercent: number;
  duplicates: number;
  outOfOrder: number;
  late: number;
  jitterMs: number;
  jitterP50Ms: number;
  jitterP99Ms: number;
}
