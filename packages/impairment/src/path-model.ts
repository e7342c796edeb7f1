import type { DeliveryMode } from '@lab/protocol';
import type { Direction } from './commands.ts';
import { centralInterval } from './intervals.ts';
import { corruptionCheck, NetemQdisc, Random, type CorruptionCheck } from './netem-model.ts';
import type { ImpairmentProfile } from './profile.ts';

/**
 * What the lab's paths do to packets under one profile, and so what a correct measurement shows: the
 * expected value of each count and the band a correct lab falls in. A datagram crosses the relay's
 * impaired points (its way in, out, or both); a TCP segment crosses the TCP server's point once (its
 * data in one direction, its ACKs in the other).
 */

/** Ethernet (14) + IPv4 (20) + UDP (8): what netem counts besides the datagram (qdisc_pkt_len). */
export const UDP_FRAME_OVERHEAD = 42;

export interface UdpPath {
  profile: ImpairmentProfile;
  /** Which of the relay's packets meet the profile: those into it, out of it, or both. */
  direction: Direction;
  /** unicast: the relay sends one copy per receiver; broadcast and multicast: one copy all receivers get. */
  mode: DeliveryMode;
  receivers: number;
  datagrams: number;
  /** Datagrams per second. */
  rate: number;
  /** UDP payload bytes per datagram. */
  datagramBytes: number;
  /** How long the receivers wait after the last datagram was sent; later arrivals count as lost. */
  drainMs: number;
  /** Transit beyond the fastest by more than this is late (StreamStats). */
  lateMs: number;
  /**
   * How late the sender's datagrams really went out against the even pace: points [probability, ms] of
   * its distribution, from 0 to 1 (the client measures them). Whether a reordered datagram overtakes one
   * or two others depends on it. Absent: a perfectly even pace.
   */
  sendLateness?: readonly (readonly [number, number])[];
  /**
   * Whose counting the receiver does: the lab's (StreamStats: duplicates apart, lost = sent - unique), or
   * iperf3's (iperf_udp_recv: a late or repeated datagram is out of order and takes one back from the
   * lost gaps; nothing after the last one heard is counted). Absent: the lab's.
   */
  counting?: 'lab' | 'iperf3';
}

/**
 * How far from its time an even stream's datagram leaves, at most, either way (ms): seen in the capture of
 * the lab's evenly paced sender, gaps whose median is within 0.06 ms of the nominal one.
 */
export const EVEN_SPREAD_MS = 0.1;

/** A value drawn from quantile points [probability, value], linear between them (0 and 1 included). */
function drawQuantile(points: readonly (readonly [number, number])[], u: number): number {
  for (let i = 1; i < points.length; i++) {
    const [q1, v1] = points[i]!;
    const [q0, v0] = points[i - 1]!;
    if (u <= q1) return q1 === q0 ? v1 : v0 + ((v1 - v0) * (u - q0)) / (q1 - q0);
  }
  return points.at(-1)?.[1] ?? 0;
}

/** What one receiver counted, as the client's StreamStats counts it. */
export interface ReceiverCounts {
  lost: number;
  duplicates: number;
  outOfOrder: number;
  late: number;
  jitterMs: number;
}

const impairsIn = (direction: Direction) => direction !== 'out';
const impairsOut = (direction: Direction) => direction !== 'in';

/**
 * One run of the stream through netem's algorithm: the sender's datagrams at an even pace, the relay's
 * way in, the relay's copies, its way out, each receiver's arrivals in time order.
 */
export function simulateUdpStream(path: UdpPath, random: Random): ReceiverCounts[] {
  const frame = path.datagramBytes + UDP_FRAME_OVERHEAD;
  const inCheck = corruptionCheck(frame, 'ingress', 'unicast');
  const outCheck = corruptionCheck(frame, 'egress', path.mode === 'unicast' ? 'unicast' : 'group');
  const into = impairsIn(path.direction) ? new NetemQdisc(path.profile, random) : null;
  const outOf = impairsOut(path.direction) ? new NetemQdisc(path.profile, random) : null;
  const interval = 1000 / path.rate;
  // When each datagram left: its due time plus a lateness drawn from the sender's own, never before the
  // one before it (the sender sends in order). An even stream's datagrams leave within EVEN_SPREAD_MS of
  // their times: exactly on them, two that meet netem's queue at one instant (one released after its
  // delay, a later one sent at once by reorder, at a delay of a whole number of gaps) would always go in
  // the one order the simulation breaks ties in, where a real sender's tenths of a millisecond decide.
  const spread = Math.min(EVEN_SPREAD_MS, interval / 10);
  const times = new Float64Array(path.datagrams);
  for (let seq = 0, last = -Infinity; seq < path.datagrams; seq++) {
    const late = path.sendLateness ? Math.max(0, drawQuantile(path.sendLateness, random.unit())) : (random.unit() * 2 - 1) * spread;
    last = Math.max(last, seq * interval + late);
    times[seq] = last;
  }
  const sentAt = (seq: number) => times[seq]!;
  const arrivals: [number, number][][] = Array.from({ length: path.receivers }, () => []);
  const copies = path.mode === 'unicast' ? path.receivers : 1;
  // The relay's own broadcasts come back to it through its interface's receive path (ip_mc_output loops
  // a broadcast back to the host with dev_loopback_xmit, as if received on eth0), and so through the
  // ingress netem: one more packet there after each datagram it forwards, which moves a Gilbert-Elliott
  // chain on and fills a rate's queue. Multicast is looped back only to a member, which the relay is not.
  const loopsBack = path.mode === 'broadcast' && into !== null;
  // The relay reads in time order: arrivals come off a min-heap, interleaved with the sender's datagrams
  // entering the way in, so that every qdisc is given its packets in the order of their time.
  const atRelay = new MinHeap();
  const forward = (time: number, seq: number) => {
    for (let copy = 0; copy < copies; copy++) {
      const departures = outOf ? outOf.enqueue(time, frame, outCheck) : [{ at: time, spoiled: false }];
      for (const departure of departures) {
        if (departure.spoiled) continue;
        if (copies === 1) for (const list of arrivals) list.push([departure.at, seq]);
        else arrivals[copy]!.push([departure.at, seq]);
      }
    }
    if (loopsBack) into!.enqueue(time, frame, inCheck);
  };
  for (let seq = 0; seq < path.datagrams; seq++) {
    const now = sentAt(seq);
    while (atRelay.size > 0 && atRelay.peekTime() <= now) {
      const [time, arrived] = atRelay.pop();
      forward(time, arrived);
    }
    if (!into) atRelay.push(now, seq);
    else for (const copy of into.enqueue(now, frame, inCheck)) if (!copy.spoiled) atRelay.push(copy.at, seq);
  }
  while (atRelay.size > 0) {
    const [time, arrived] = atRelay.pop();
    forward(time, arrived);
  }
  const end = (path.datagrams > 0 ? sentAt(path.datagrams - 1) : 0) + path.drainMs;
  const counter = path.counting === 'iperf3' ? countAsIperf3 : count;
  return arrivals.map((list) => counter(list.sort((a, b) => a[0] - b[0]), path.datagrams, end, sentAt, path.lateMs));
}

/** A binary min-heap of [time, seq], earliest first; equal times in the order they were pushed. */
class MinHeap {
  #items: [number, number, number][] = [];
  #pushed = 0;

  get size(): number {
    return this.#items.length;
  }

  peekTime(): number {
    return this.#items[0]![0];
  }

  push(time: number, seq: number): void {
    const items = this.#items;
    items.push([time, seq, this.#pushed++]);
    for (let i = items.length - 1; i > 0; ) {
      const parent = (i - 1) >> 1;
      if (!before(items[i]!, items[parent]!)) break;
      [items[i], items[parent]] = [items[parent]!, items[i]!];
      i = parent;
    }
  }

  pop(): [number, number] {
    const items = this.#items;
    const top = items[0]!;
    const last = items.pop()!;
    if (items.length > 0) {
      items[0] = last;
      for (let i = 0; ; ) {
        const left = 2 * i + 1;
        const right = left + 1;
        let least = i;
        if (left < items.length && before(items[left]!, items[least]!)) least = left;
        if (right < items.length && before(items[right]!, items[least]!)) least = right;
        if (least === i) break;
        [items[i], items[least]] = [items[least]!, items[i]!];
        i = least;
      }
    }
    return [top[0], top[1]];
  }
}

const before = (a: [number, number, number], b: [number, number, number]) => a[0] < b[0] || (a[0] === b[0] && a[2] < b[2]);

/** StreamStats' counting (services/client/src/stream-stats.ts), over simulated arrivals. */
function count(arrivals: [number, number][], sent: number, end: number, sentAt: (seq: number) => number, lateMs: number): ReceiverCounts {
  const seen = new Uint8Array(sent);
  let unique = 0;
  let duplicates = 0;
  let outOfOrder = 0;
  let late = 0;
  let highest = -1;
  let minTransit = Infinity;
  let lastTransit: number | null = null;
  let jitter = 0;
  for (const [time, seq] of arrivals) {
    if (time > end) break;
    if (seen[seq]) {
      duplicates++;
      continue;
    }
    seen[seq] = 1;
    unique++;
    if (seq < highest) outOfOrder++;
    else highest = seq;
    const transit = time - sentAt(seq);
    minTransit = Math.min(minTransit, transit);
    if (transit - minTransit > lateMs) late++;
    // RFC 3550 A.8: J += (|D| - J) / 16.
    if (lastTransit !== null) jitter += (Math.abs(transit - lastTransit) - jitter) / 16;
    lastTransit = transit;
  }
  return { lost: sent - unique, duplicates, outOfOrder, late, jitterMs: jitter };
}

/**
 * iperf3's counting (3.12, src/iperf_udp.c, iperf_udp_recv) over simulated arrivals: a number above the
 * next expected adds the gap to the errors; one below it (late, or a second copy) is out of order and
 * takes one error back; jitter over every arrival. `lost` is iperf3's net count, `duplicates` 0 (they are
 * in outOfOrder); late is not iperf3's and is counted as the lab counts it.
 */
function countAsIperf3(arrivals: [number, number][], _sent: number, end: number, sentAt: (seq: number) => number, lateMs: number): ReceiverCounts {
  let next = 0;
  let errors = 0;
  let outOfOrder = 0;
  let late = 0;
  let minTransit = Infinity;
  let lastTransit: number | null = null;
  let jitter = 0;
  for (const [time, seq] of arrivals) {
    if (time > end) break;
    if (seq >= next) {
      errors += seq - next;
      next = seq + 1;
    } else {
      outOfOrder++;
      if (errors > 0) errors--;
    }
    const transit = time - sentAt(seq);
    minTransit = Math.min(minTransit, transit);
    if (transit - minTransit > lateMs) late++;
    if (lastTransit !== null) jitter += (Math.abs(transit - lastTransit) - jitter) / 16;
    lastTransit = transit;
  }
  return { lost: errors, duplicates: 0, outOfOrder, late, jitterMs: jitter };
}

/** A figure a correct lab shows: its expected value, and the counts it falls in 95% and 99% of the time. */
export interface Expected {
  mean: number;
  band95: [number, number];
  band99: [number, number];
}

export interface UdpExpectation {
  /** exact: from the per-datagram probabilities (memoryless profiles); simulated: `trials` runs of netem's algorithm. */
  method: 'exact' | 'simulated';
  trials: number;
  lost: Expected;
  duplicates: Expected;
  /** Null where the profile cannot move a datagram in time (no delay, jitter, reorder or rate): then 0 is expected. */
  outOfOrder: Expected | null;
  late: Expected | null;
  /** In ms; null as above: what is measured then is the lab's own jitter. */
  jitterMs: Expected | null;
}

/** Does anything in the profile remember the packet before (a correlation, the Gilbert-Elliott state, a queue)? */
export function hasMemory(profile: ImpairmentProfile): boolean {
  // A delay's correlation is not memory: the kernel's modulo loses it (see NetemQdisc).
  const { loss, duplicate, corrupt, reorder, rate } = profile;
  const correlated = (value?: { correlation?: number }) => (value?.correlation ?? 0) > 0;
  return loss?.kind === 'gemodel' || (loss?.kind === 'random' && correlated(loss)) || correlated(duplicate) || correlated(corrupt) || correlated(reorder) || rate !== undefined;
}

/** Can the profile move datagrams in time (and so reorder them, make them late, or add jitter)? */
export function movesInTime(profile: ImpairmentProfile): boolean {
  // A rate moves datagrams in time too: they wait in its queue.
  const { delay, reorder, rate } = profile;
  return (delay?.jitterMs ?? 0) > 0 || (reorder?.percent ?? 0) > 0 || rate !== undefined;
}

/** Probabilities of 0, 1 and 2 good copies out of one memoryless netem point (see NetemQdisc). */
function copiesThroughPoint(profile: ImpairmentProfile, check: CorruptionCheck): number[] {
  const d = (profile.duplicate?.percent ?? 0) / 100;
  const l = profile.loss?.kind === 'random' ? profile.loss.percent / 100 : 0;
  const c = ((profile.corrupt?.percent ?? 0) / 100) * (1 - check.unnoticedBits / (check.frameBytes * 8));
  const good = 1 - c;
  // One copy goes on: not duplicated and not lost, or duplicated and lost (count = 1 + 1 - 1).
  const one = (1 - d) * (1 - l) + d * l;
  // Duplicated and not lost: the original, and a clone that meets loss again.
  const two = d * (1 - l);
  const pmf = [0, 0, 0];
  pmf[0]! += (1 - d) * l;
  pmf[0]! += one * c;
  pmf[1]! += one * good;
  // original good/spoiled × clone (lost, spoiled, good)
  const clone = [l + (1 - l) * c, (1 - l) * good];
  const original = [c, good];
  for (const [o, po] of original.entries()) for (const [k, pk] of clone.entries()) pmf[o + k]! += two * po * pk;
  return pmf;
}

function convolve(a: number[], b: number[]): number[] {
  const out = new Array<number>(a.length + b.length - 1).fill(0);
  for (const [i, x] of a.entries()) for (const [j, y] of b.entries()) out[i + j]! += x * y;
  return out;
}

/** The distribution of good copies one receiver gets of one datagram, with memoryless points. */
export function copiesPerDatagram(path: Pick<UdpPath, 'profile' | 'direction' | 'mode' | 'datagramBytes'>): number[] {
  const frame = path.datagramBytes + UDP_FRAME_OVERHEAD;
  const into = impairsIn(path.direction) ? copiesThroughPoint(path.profile, corruptionCheck(frame, 'ingress', 'unicast')) : [0, 1];
  if (!impairsOut(path.direction)) return into;
  const outOf = copiesThroughPoint(path.profile, corruptionCheck(frame, 'egress', path.mode === 'unicast' ? 'unicast' : 'group'));
  // Each copy that reached the relay goes out through the point on its own.
  let total = [1];
  const result = new Array<number>(2 * (into.length - 1) + 1).fill(0);
  for (const [k, pk] of into.entries()) {
    if (k > 0) total = convolve(total, outOf);
    const ways = k === 0 ? [1] : total;
    for (const [n, pn] of ways.entries()) result[n]! += pk * pn;
  }
  return result;
}

/** The distribution of a sum of `n` independent draws from `pmf` (counts 0, 1, …). */
function sumDistribution(pmf: number[], n: number): number[] {
  let result = [1];
  let power = pmf;
  for (let k = n; k > 0; k >>= 1) {
    if (k & 1) result = trim(convolve(result, power));
    if (k > 1) power = trim(convolve(power, power));
  }
  return result;
}

/** Drops the far tail (below 1e-15 of mass), which only costs time. */
function trim(pmf: number[]): number[] {
  let end = pmf.length;
  while (end > 1 && pmf[end - 1]! < 1e-18) end--;
  return pmf.slice(0, end);
}

function expectedFromPmf(pmf: number[]): Expected {
  const mean = pmf.reduce((sum, p, k) => sum + p * k, 0);
  return { mean, band95: centralInterval(pmf, 0.95), band99: centralInterval(pmf, 0.99) };
}

function widen(figure: Expected, by: number, most: number): Expected {
  const grow = ([low, high]: [number, number]): [number, number] => [Math.max(0, low - by), Math.min(most, high + by)];
  return { mean: figure.mean, band95: grow(figure.band95), band99: grow(figure.band99) };
}

function expectedFromSamples(values: number[]): Expected {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.round(q * (sorted.length - 1))))]!;
  const mean = values.reduce((sum, v) => sum + v, 0) / values.length;
  return { mean, band95: [at(0.025), at(0.975)], band99: [at(0.005), at(0.995)] };
}

/**
 * What one receiver of `path` should count. Memoryless profiles get exact bands for lost and duplicated
 * datagrams (a binomial, and the n-fold convolution of the per-datagram copies); anything with memory
 * (correlation, Gilbert-Elliott, a rate's queue) and every timing figure is simulated with netem's own
 * algorithm, `trials` times, from a fixed seed (so the same step always gets the same band).
 */
export function expectUdp(path: UdpPath, options: { trials?: number; seed?: number } = {}): UdpExpectation {
  const timing = movesInTime(path.profile);
  // iperf3's counts are not the per-datagram ones the exact bands are made of: they are simulated.
  const memory = hasMemory(path.profile) || path.counting === 'iperf3';
  const trials = options.trials ?? (memory ? 1000 : 200);
  let lost: Expected;
  let duplicates: Expected;
  // Every receiver's counts of every run, by the receiver's place in the relay's fan-out: under a queue
  // the first member's copy gets in where the second's is dropped, and which receiver the relay serves
  // first is not known (the order of their joins), so a band must hold for every place.
  const byPlace: ReceiverCounts[][] = Array.from({ length: path.receivers }, () => []);
  if (memory || timing) {
    const random = new Random(options.seed ?? 20_261_202);
    for (let trial = 0; trial < trials; trial++) simulateUdpStream(path, random).forEach((counts, place) => byPlace[place]!.push(counts));
  }
  // Which member's copy a full queue drops depends on timing finer than the sender's pacing tells (seen:
  // one receiver lost 209 where the paced runs put both places between 237 and 311); an evenly paced
  // sender splits them the most. The bands of a queue's drops span both.
  const splits: ReceiverCounts[][] = Array.from({ length: path.receivers }, () => []);
  if (path.profile.rate && path.sendLateness && path.mode === 'unicast' && path.receivers > 1) {
    const random = new Random((options.seed ?? 20_261_202) + 1);
    const even = { ...path, sendLateness: undefined };
    for (let trial = 0; trial < Math.ceil(trials / 4); trial++) simulateUdpStream(even, random).forEach((counts, place) => splits[place]!.push(counts));
  }
  const expected = (pick: (counts: ReceiverCounts) => number) => everyPlace(byPlace.map((samples) => expectedFromSamples(samples.map(pick))));
  const lost0 = () => expected((s) => s.lost);
  if (!memory) {
    const copies = copiesPerDatagram(path);
    const lossProbability = copies[0]!;
    lost = expectedFromPmf(binomialPmf(path.datagrams, lossProbability));
    const extra = copies.map((_, k) => (k === 0 ? copies[0]! + (copies[1] ?? 0) : (copies[k + 1] ?? 0))).slice(0, Math.max(1, copies.length - 1));
    duplicates = expectedFromPmf(sumDistribution(extra, path.datagrams));
  } else {
    lost = splits[0]!.length > 0 ? everyPlace([lost0(), ...splits.map((samples) => expectedFromSamples(samples.map((s) => s.lost)))], 1) : lost0();
    duplicates = expected((s) => s.duplicates);
    // A rate's queue drops by the clock: how many depends on exactly when the sender and the relay sent,
    // which the model knows only from the sender's pacing. Its band is 1% of the datagrams wider either way.
    if (path.profile.rate) lost = widen(lost, Math.max(2, Math.ceil(path.datagrams / 100)), path.datagrams);
  }
  return {
    method: memory ? 'simulated' : 'exact',
    trials: memory || timing ? trials : 0,
    lost,
    duplicates,
    // iperf3 counts a second copy as out of order: then there is something to expect without any timing.
    outOfOrder: timing || path.counting === 'iperf3' ? expected((s) => s.outOfOrder) : null,
    late: timing ? expected((s) => s.late) : null,
    jitterMs: timing ? expected((s) => s.jitterMs) : null,
  };
}

/**
 * One figure for a receiver whose place is not known: bands that hold at each place, and the mean of the
 * first `means` figures (the others only widen the bands).
 */
function everyPlace(figures: Expected[], means = figures.length): Expected {
  const span = (key: 'band95' | 'band99'): [number, number] => [Math.min(...figures.map((f) => f[key][0])), Math.max(...figures.map((f) => f[key][1]))];
  const counted = figures.slice(0, means);
  return { mean: counted.reduce((sum, f) => sum + f.mean, 0) / counted.length, band95: span('band95'), band99: span('band99') };
}

function binomialPmf(n: number, p: number): number[] {
  if (p <= 0) return [1];
  if (p >= 1) return [...new Array<number>(n).fill(0), 1];
  const logP = Math.log(p);
  const logQ = Math.log(1 - p);
  let logC = 0;
  const pmf: number[] = [];
  for (let k = 0; k <= n; k++) {
    if (k > 0) logC += Math.log(n - k + 1) - Math.log(k);
    pmf.push(Math.exp(logC + k * logP + (n - k) * logQ));
  }
  return pmf;
}

/** What one impaired point does to a stream of packets of `frameBytes`, over a long run (no queueing). */
export interface PointRates {
  /** Share of packets of which no good copy leaves. */
  loss: number;
  /** Share of packets of which two good copies leave. */
  duplicate: number;
  /** Mean delay a packet gets at the point, in ms (reordered packets get none). */
  delayMs: number;
}

/**
 * The long-run rates of one point, from netem's algorithm over many packets spaced far apart (so that
 * a rate's queue never fills): what a TCP segment meets there. Memoryless profiles are exact.
 */
export function pointRates(profile: ImpairmentProfile, frameBytes: number, side: 'ingress' | 'egress', packets = 200_000, seed = 7): PointRates {
  const check = corruptionCheck(frameBytes, side, 'unicast');
  if (!hasMemory(profile)) {
    const pmf = copiesThroughPoint(profile, check);
    return { loss: pmf[0]!, duplicate: pmf[2]!, delayMs: meanDelay(profile, seed) };
  }
  const random = new Random(seed);
  const point = new NetemQdisc({ ...profile, rate: undefined }, random);
  let lost = 0;
  let doubled = 0;
  let delay = 0;
  let delays = 0;
  for (let i = 0; i < packets; i++) {
    const now = i * 1e7;
    const good = point.enqueue(now, frameBytes, check).filter((copy) => !copy.spoiled);
    if (good.length === 0) lost++;
    if (good.length === 2) doubled++;
    for (const copy of good) {
      delay += copy.at - now;
      delays++;
    }
  }
  return { loss: lost / packets, duplicate: doubled / packets, delayMs: delays === 0 ? 0 : delay / delays };
}

/** Mean delay per packet at one point: reordered packets leave at once; a negative draw leaves at once too. */
function meanDelay(profile: ImpairmentProfile, seed: number): number {
  const { delay, reorder } = profile;
  if (!delay) return 0;
  const random = new Random(seed);
  const point = new NetemQdisc({ delay, ...(reorder && { reorder }) }, random);
  let sum = 0;
  const samples = 20_000;
  for (let i = 0; i < samples; i++) {
    const now = i * 1e7;
    sum += Math.max(0, point.enqueue(now, 100, { frameBytes: 100, unnoticedBits: 800 })[0]!.at - now);
  }
  return sum / samples;
}
