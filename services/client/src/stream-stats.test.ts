import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { StreamStats } from './stream-stats.ts';

function feed(seqs: number[], sendTimes?: number[], arrivals?: number[]): StreamStats {
  const stats = new StreamStats();
  seqs.forEach((seq, i) => stats.record(BigInt(seq), BigInt(sendTimes?.[i] ?? i * 1000), BigInt(arrivals?.[i] ?? i * 1000 + 500)));
  return stats;
}

describe('StreamStats', () => {
  it('counts a perfect stream as complete, in order, without jitter', () => {
    assert.deepEqual(feed([0, 1, 2, 3, 4]).summary(5), {
      sent: 5, received: 5, unique: 5, lost: 0, lossPercent: 0, duplicates: 0, outOfOrder: 0, late: 0, jitterMs: 0, jitterP50Ms: 0.01, jitterP99Ms: 0.01,
    });
  });

  it('counts gaps as lost, including a lost tail', () => {
    const stats = feed([0, 1, 4, 5]);
    assert.equal(stats.atLeastSent, 6, 'without the sender\'s count, the highest number is a lower bound');
    const s = stats.summary(8);
    assert.equal(s.lost, 4);
    assert.equal(s.lossPercent, 50);
    assert.equal(s.outOfOrder, 0);
  });

  it('counts duplicates apart, so they do not hide a loss', () => {
    const s = feed([0, 1, 1, 3, 3, 3]).summary(4);
    assert.deepEqual([s.received, s.unique, s.duplicates, s.lost], [6, 3, 3, 1]);
  });

  it('counts a reordered datagram once as out of order and not as lost', () => {
    const s = feed([0, 2, 1, 3]).summary(4);
    assert.deepEqual([s.outOfOrder, s.lost, s.duplicates], [1, 0, 0]);
  });

  it('counts a late duplicate of an old datagram as a duplicate, not a reordering', () => {
    const s = feed([0, 1, 2, 3, 0]).summary(4);
    assert.deepEqual([s.duplicates, s.outOfOrder, s.unique], [1, 0, 4]);
  });

  it('handles sequence numbers above 2^53 exactly', () => {
    const base = 2n ** 63n;
    const stats = new StreamStats();
    for (const d of [0n, 1n, 1n, 3n]) stats.record(base + d, 0n, 0n);
    const s = stats.summary(4);
    assert.deepEqual([s.unique, s.duplicates, s.lost], [3, 1, 1]);
  });

  it('counts as late what took more than lateMs longer than the fastest transit, and not twice', () => {
    const stats = new StreamStats(10);
    // transits: 1 ms, 5 ms, 12 ms (late: 11 ms over the fastest), 30 ms (late), and a duplicate of the last
    for (const [seq, transitUs] of [[0, 1000], [1, 5000], [2, 12_000], [3, 30_000], [3, 40_000]] as const) {
      stats.record(BigInt(seq), 0n, BigInt(transitUs));
    }
    const s = stats.summary(4);
    assert.deepEqual([s.late, s.duplicates, s.lost], [2, 1, 0]);
  });

  it('computes RFC 3550 jitter: J += (|D| - J) / 16', () => {
    // transit times 500, 1500, 500 µs: D = 1000 then 1000; J = 62.5, then 62.5 + (1000 - 62.5)/16
    const s = feed([0, 1, 2], [0, 1000, 2000], [500, 2500, 2500]).summary(3);
    assert.equal(s.jitterMs, (62.5 + (1000 - 62.5) / 16) / 1000);
  });

  it('says how high the jitter went, where its last value says only how the stream ended', () => {
    const stats = new StreamStats();
    // 1000 datagrams 5 ms apart with a transit of 1 ms, but one stall of 10 ms at datagram 300.
    for (let i = 0; i < 1000; i++) stats.record(BigInt(i), BigInt(i * 5000), BigInt(i * 5000 + 1000 + (i === 300 ? 10_000 : 0)));
    const s = stats.summary(1000);
    assert.ok(s.jitterMs < 0.001, 'the stream ended calmly');
    // The stall lifted J to 625 µs, then 1211 µs (its way back), and it took 12 arrivals to fall below 0.5 ms.
    assert.ok(s.jitterP99Ms >= 0.5 && s.jitterP99Ms <= 1.22, String(s.jitterP99Ms));
    assert.equal(s.jitterP50Ms, 0.01, 'most of the time, none: the first 10 µs bin');
  });
});
