import type { Distribution, ImpairmentProfile } from './profile.ts';

/**
 * What one netem qdisc does to each packet, decided as net/sched/sch_netem.c (Linux 6.1,
 * `netem_enqueue`) decides it, so that the lab can put beside each measurement what netem itself would
 * produce, not what a textbook formula says. Pure: a seeded random source, no clock (times are given).
 *
 * The kernel's rules that a plain formula gets wrong, each from the source:
 * - duplicate is decided first, loss second, and `count = 1 + dup - loss`: a packet that is both
 *   duplicated and lost goes on once; the copy of a duplicated packet re-enters the qdisc with
 *   duplication off and meets loss and corruption again (a second draw, a second Gilbert-Elliott step);
 * - a correlation (`loss 10% 25%`) mixes each random number with the one before
 *   (`get_crandom`: X = (1-a)U + aX'), which is no longer uniform: `loss 10% 25%` drops about 1.7%;
 * - Gilbert-Elliott: two draws per packet, the transition first, then loss with the probability of the
 *   state the packet arrived in (`loss_gilb_ell`); tc's defaults are r = 1 - p, 1-h = 100%, 1-k = 0%;
 * - jitter without a distribution is uniform over [delay - jitter, delay + jitter) (`tabledist`); with a
 *   table (normal, pareto, paretonormal) the jitter scales a table of quantiles;
 * - a reordered packet is sent at once, without delay and without rate time (`reorder` with tc's gap 1);
 * - with `rate`, a packet leaves at max(the last queued packet's time, now + delay) plus its own
 *   length's time at the rate, the length including the 14-byte Ethernet header (`qdisc_pkt_len`);
 *   the queue holds at most `limit` (tc's default 1000) packets, and drops the rest;
 * - corruption flips one bit of one byte of the packet, Ethernet header included (`skb->data`): the
 *   receiver's checksum drops it, unless the bit is one nothing checks (see `CorruptionCheck`).
 */

const U32 = 4294967296;

/** A percentage as the kernel holds it: tc's set_percent, rint(fraction * UINT32_MAX). */
export const scaledPercent = (percent: number) => Math.round((percent / 100) * 0xffffffff);

/** A small, fast, seeded generator of 32-bit numbers (sfc32), so every model run is repeatable. */
export class Random {
  #a: number;
  #b: number;
  #c: number;
  #d: number;

  constructor(seed: number) {
    this.#a = 0x9e3779b9;
    this.#b = 0x243f6a88;
    this.#c = 0xb7e15162;
    this.#d = seed >>> 0;
    for (let i = 0; i < 16; i++) this.u32();
  }

  /** Uniform on [0, 2^32). */
  u32(): number {
    const t = (((this.#a + this.#b) | 0) + this.#d) | 0;
    this.#d = (this.#d + 1) | 0;
    this.#a = this.#b ^ (this.#b >>> 9);
    this.#b = (this.#c + (this.#c << 3)) | 0;
    this.#c = (this.#c << 21) | (this.#c >>> 11);
    this.#c = (this.#c + t) | 0;
    return t >>> 0;
  }

  /** Uniform on [0, 1). */
  unit(): number {
    return this.u32() / U32;
  }
}

/** netem's correlated random numbers (`get_crandom`, struct crndstate): uncorrelated when rho is 0. */
class CorrelatedRandom {
  readonly #rho: number;
  #last: number;

  constructor(correlationPercent: number | undefined, random: Random) {
    this.#rho = scaledPercent(correlationPercent ?? 0);
    this.#last = random.u32();
  }

  next(random: Random): number {
    if (this.#rho === 0) return random.u32();
    const value = random.u32();
    const rho = this.#rho + 1;
    // (value * (2^32 - rho) + last * rho) >> 32, in doubles: off by at most one unit in 2^32.
    this.#last = Math.floor((value * (U32 - rho) + this.#last * rho) / U32);
    return this.#last;
  }
}

/** Inverse of the standard normal distribution (Acklam's rational approximation, |error| < 1.2e-9). */
function normalQuantile(p: number): number {
  const a = [-39.69683028665376, 220.9460984245205, -275.9285104469687, 138.357751867269, -30.66479806614716, 2.506628277459239];
  const b = [-54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972, -13.28068155288572];
  const c = [-0.007784894002430293, -0.3223964580411365, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
  const d = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416];
  const q = Math.min(Math.max(p, 1e-12), 1 - 1e-12);
  if (q < 0.02425 || q > 1 - 0.02425) {
    const r = Math.sqrt(-2 * Math.log(q < 0.5 ? q : 1 - q));
    const x = (((((c[0]! * r + c[1]!) * r + c[2]!) * r + c[3]!) * r + c[4]!) * r + c[5]!) / ((((d[0]! * r + d[1]!) * r + d[2]!) * r + d[3]!) * r + 1);
    return q < 0.5 ? x : -x;
  }
  const r = q - 0.5;
  const s = r * r;
  return ((((((a[0]! * s + a[1]!) * s + a[2]!) * s + a[3]!) * s + a[4]!) * s + a[5]!) * r) / (((((b[0]! * s + b[1]!) * s + b[2]!) * s + b[3]!) * s + b[4]!) * s + 1);
}

/**
 * One value of iproute2's distribution tables (netem/normal.c, pareto.c, paretonormal.c) at quantile u,
 * in units of the jitter: the tables hold quantiles (clipped at ±4), and netem picks one at random.
 */
export function tableValue(distribution: Distribution, u: number): number {
  const clip = (x: number) => Math.max(-4, Math.min(4, x));
  const normal = clip(normalQuantile(u));
  // A Pareto distribution with shape 3, shifted and scaled as iproute2's pareto.c does.
  const pareto = clip((1 / Math.cbrt(1 - u) - 1.5) * (4 / 3));
  if (distribution === 'normal') return normal;
  if (distribution === 'pareto') return pareto;
  return (normal + 3 * pareto) / 4;
}

/**
 * Which flipped bits the receiver never notices, so that a corrupted packet still arrives: those in
 * fields nobody checks. `macBytes`: the Ethernet header bytes whose flip goes unnoticed: on the way in
 * (through the ifb device, after the stack has read the header) all 14; on the way out the source
 * address (6) and, for a broadcast or multicast destination, the destination's bits but its I/G bit
 * (it stays a group address the bridge floods and the stack accepts). Every bit of the IPv4 header, the
 * UDP or TCP header and the payload is covered by a checksum the receiver verifies.
 */
export interface CorruptionCheck {
  /**
   * Bytes netem may flip a bit in: the skb's linear part (skb_headlen), after skb_unshare. A datagram is
   * linear, the whole frame (__ip_append_data allocates it so); a TCP segment is a clone of the one TCP
   * keeps for retransmission, which skb_unshare copies whole into one linear buffer: all of it too.
   */
  frameBytes: number;
  /** Bits of those whose flip goes unnoticed. */
  unnoticedBits: number;
}

export function corruptionCheck(frameBytes: number, side: 'ingress' | 'egress', destination: 'unicast' | 'group'): CorruptionCheck {
  const unnoticedBits = Math.min(frameBytes * 8, side === 'ingress' ? 14 * 8 : 6 * 8 + (destination === 'group' ? 47 : 0));
  return { frameBytes, unnoticedBits };
}

/** What became of one packet given to a netem qdisc: its copies (0, 1 or 2) and when each leaves. */
export interface Departure {
  at: number;
  /** Corrupted in a way the receiver's checksum catches: it is dropped there. */
  spoiled: boolean;
}

const GOOD = 0;
const BAD = 1;

/**
 * One netem qdisc (the root qdisc of one device: an interface's egress, or the ifb that holds its
 * ingress), with its state: the Gilbert-Elliott state, the correlation memories, the queue. Times in
 * milliseconds; packets must be given in the order of their `now`.
 */
export class NetemQdisc {
  readonly #random: Random;
  readonly #profile: ImpairmentProfile;
  readonly #limit: number;
  readonly #loss: number;
  readonly #duplicate: number;
  readonly #corrupt: number;
  readonly #reorder: number;
  readonly #lossMemory: CorrelatedRandom;
  readonly #duplicateMemory: CorrelatedRandom;
  readonly #corruptMemory: CorrelatedRandom;
  readonly #reorderMemory: CorrelatedRandom;
  readonly #ge: { a1: number; a2: number; a3: number; a4: number } | null;
  #state = GOOD;
  /** Departure times of the packets still queued (tfifo), for the limit and the rate's last time. */
  #queued: number[] = [];
  #lastQueued = -Infinity;
  /** Packets dropped because the queue was full (netem's qstats drops from the limit). */
  overLimit = 0;

  constructor(profile: ImpairmentProfile, random: Random, limit = 1000) {
    this.#random = random;
    this.#profile = profile;
    this.#limit = limit;
    const { loss, duplicate, corrupt, reorder } = profile;
    this.#loss = loss?.kind === 'random' ? scaledPercent(loss.percent) : 0;
    this.#lossMemory = new CorrelatedRandom(loss?.kind === 'random' ? loss.correlation : 0, random);
    this.#duplicate = duplicate ? scaledPercent(duplicate.percent) : 0;
    this.#duplicateMemory = new CorrelatedRandom(duplicate?.correlation, random);
    this.#corrupt = corrupt ? scaledPercent(corrupt.percent) : 0;
    this.#corruptMemory = new CorrelatedRandom(corrupt?.correlation, random);
    this.#reorder = reorder && reorder.percent > 0 ? scaledPercent(reorder.percent) : 0;
    this.#reorderMemory = new CorrelatedRandom(reorder?.correlation, random);
    this.#ge =
      loss?.kind === 'gemodel'
        ? {
            a1: scaledPercent(loss.p),
            a2: scaledPercent(loss.r ?? 100 - loss.p),
            // tc: "netem option is 1-h but kernel expects h"
            a3: 0xffffffff - scaledPercent(loss.oneMinusH ?? 100),
            a4: scaledPercent(loss.oneMinusK ?? 0),
          }
        : null;
  }

  /** `loss_event`: random (maybe correlated) or Gilbert-Elliott. */
  #lossEvent(): boolean {
    if (this.#ge) {
      const { a1, a2, a3, a4 } = this.#ge;
      const random = this.#random;
      if (this.#state === GOOD) {
        if (random.u32() < a1) this.#state = BAD;
        return random.u32() < a4;
      }
      if (random.u32() < a2) this.#state = GOOD;
      return random.u32() > a3;
    }
    return this.#loss !== 0 && this.#loss >= this.#lossMemory.next(this.#random);
  }

  /** `tabledist`: the delay of one packet in ms (correlation is lost to the modulo in the kernel). */
  #delay(): number {
    const delay = this.#profile.delay;
    if (!delay) return 0;
    const jitter = delay.jitterMs ?? 0;
    if (jitter === 0) return delay.ms;
    const u = this.#random.unit();
    if (!delay.distribution) return delay.ms - jitter + 2 * jitter * u;
    return delay.ms + jitter * tableValue(delay.distribution, u);
  }

  /**
   * Gives one packet of `bytes` (Ethernet header included) to the qdisc at time `now`. The profile is
   * taken as the kernel holds it (see effectiveProfile).
   */
  enqueue(now: number, bytes: number, check: CorruptionCheck): Departure[] {
    while (this.#queued.length > 0 && this.#queued[0]! <= now) this.#dequeueFirst();
    let count = 1;
    if (this.#duplicate !== 0 && this.#duplicate >= this.#duplicateMemory.next(this.#random)) count++;
    if (this.#lossEvent()) count--;
    if (count === 0) return [];
    const spoiled = this.#corrupted(check);
    if (this.#queued.length >= this.#limit) {
      this.overLimit += count;
      return [];
    }
    const out: Departure[] = [];
    if (count > 1) {
      // The clone re-enters the root qdisc with duplication off: loss, corruption and its own delay again.
      if (!this.#lossEvent()) {
        const cloneSpoiled = this.#corrupted(check);
        if (this.#queued.length >= this.#limit) this.overLimit++;
        else out.push({ at: this.#place(now, bytes), spoiled: cloneSpoiled });
      }
    }
    out.push({ at: this.#place(now, bytes), spoiled });
    return out;
  }

  #corrupted(check: CorruptionCheck): boolean {
    if (this.#corrupt === 0 || this.#corrupt < this.#corruptMemory.next(this.#random)) return false;
    // One bit of one byte: noticed unless it is one of the bits nobody checks.
    return this.#random.unit() * check.frameBytes * 8 >= check.unnoticedBits;
  }

  /** Reorder or delay (and rate): when the packet leaves. */
  #place(now: number, bytes: number): number {
    if (this.#reorder !== 0 && this.#reorder >= this.#reorderMemory.next(this.#random)) return now;
    let delay = this.#delay();
    let start = now;
    const rate = this.#profile.rate;
    if (rate) {
      if (this.#queued.length > 0 && this.#lastQueued > now) {
        delay = Math.max(0, delay - (this.#lastQueued - now));
        start = this.#lastQueued;
      }
      delay += ((bytes * 8) / rate.bitsPerSecond) * 1000;
    }
    const at = start + delay;
    this.#insert(at);
    // A time already past (a jitter larger than the delay) means: at the next dequeue, now.
    return Math.max(now, at);
  }

  #insert(at: number): void {
    // Kept sorted (it is a time-ordered queue, tfifo): appends are the common case.
    const queue = this.#queued;
    let i = queue.length;
    while (i > 0 && queue[i - 1]! > at) i--;
    queue.splice(i, 0, at);
    if (at > this.#lastQueued) this.#lastQueued = at;
  }

  #dequeueFirst(): void {
    this.#queued.shift();
    if (this.#queued.length === 0) this.#lastQueued = -Infinity;
  }
}
