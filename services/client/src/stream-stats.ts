/**
 * What one receiver saw of one sequenced stream, counted as iperf3 does (`src/iperf_udp.c`) with one
 * difference: iperf3 assumes datagrams are never duplicated, but netem and real networks can duplicate
 * them, so duplicates are counted apart and never offset losses.
 *
 * - received: every datagram that arrived, duplicates included;
 * - unique: distinct sequence numbers that arrived;
 * - duplicates: arrivals of a sequence number already seen;
 * - outOfOrder: first arrivals of a number lower than the highest seen before it (a reordering);
 * - lost (in `summary`): sent minus unique, known only once the sender says how many it sent;
 * - jitter: RFC 3550 §6.4.1 / A.8 interarrival jitter, J += (|D| - J) / 16, where D is the change in
 *   transit time (arrival - send time) between consecutive arrivals. Sender and receiver clocks need not
 *   agree: a constant offset cancels out in D.
 */
export class StreamStats {
  #seen = new Set<bigint>();
  #received = 0;
  #duplicates = 0;
  #outOfOrder = 0;
  #highest: bigint | null = null;
  #lastTransitUs: number | null = null;
  #jitterUs = 0;

  record(seq: bigint, sendTimeUs: bigint, arrivalUs: bigint): void {
    this.#received++;
    if (this.#seen.has(seq)) {
      this.#duplicates++;
      return;
    }
    this.#seen.add(seq);
    if (this.#highest !== null && seq < this.#highest) this.#outOfOrder++;
    else this.#highest = seq;
    const transitUs = Number(arrivalUs - sendTimeUs);
    if (this.#lastTransitUs !== null) this.#jitterUs += (Math.abs(transitUs - this.#lastTransitUs) - this.#jitterUs) / 16;
    this.#lastTransitUs = transitUs;
  }

  get unique(): number {
    return this.#seen.size;
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
      jitterMs: this.#jitterUs / 1000,
    };
  }
}

export interface StreamSummary {
  sent: number;
  received: number;
  unique: number;
  lost: number;
  lossPercent: number;
  duplicates: number;
  outOfOrder: number;
  jitterMs: number;
}
