/**
 * Per-source token buckets (packets and bytes per second), so one source cannot flood the relay or,
 * through it, the room. Sources are keyed by IP address, not port, since a flooder picks ports freely.
 * The table is bounded: past `maxSources`, the least recently seen source is forgotten.
 */
export interface RateLimits {
  packetsPerSecond: number;
  bytesPerSecond: number;
  maxSources?: number;
}

interface Bucket {
  packets: number;
  bytes: number;
  atMs: number;
}

export class RateLimiter {
  readonly #limits: Required<RateLimits>;
  readonly #buckets = new Map<string, Bucket>();

  constructor(limits: RateLimits) {
    this.#limits = { maxSources: 10_000, ...limits };
  }

  /** Takes one packet of `bytes` from `source`'s buckets; false when either is empty (drop it). */
  allow(source: string, bytes: number, nowMs: number): boolean {
    const { packetsPerSecond, bytesPerSecond, maxSources } = this.#limits;
    let bucket = this.#buckets.get(source);
    if (bucket) {
      this.#buckets.delete(source); // re-inserted below: the Map's order is recency
      const elapsed = Math.max(0, nowMs - bucket.atMs) / 1000;
      bucket.packets = Math.min(packetsPerSecond, bucket.packets + elapsed * packetsPerSecond);
      bucket.bytes = Math.min(bytesPerSecond, bucket.bytes + elapsed * bytesPerSecond);
      bucket.atMs = nowMs;
    } else {
      // A new source starts with one second's worth: bursts up to the rate are fine.
      bucket = { packets: packetsPerSecond, bytes: bytesPerSecond, atMs: nowMs };
      if (this.#buckets.size >= maxSources) this.#buckets.delete(this.#buckets.keys().next().value!);
    }
    this.#buckets.set(source, bucket);
    if (bucket.packets < 1 || bucket.bytes < bytes) return false;
    bucket.packets -= 1;
    bucket.bytes -= bytes;
    return true;
  }

  get sources(): number {
    return this.#buckets.size;
  }
}
