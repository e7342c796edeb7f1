import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { goodputVerdict, verdictOf, withOwnCount, withOwnJitter } from './figure-verdict.ts';

const band = (mean: number, low: number, high: number) => ({ mean, band95: [low, high] as [number, number], band99: [low, high] as [number, number] });

describe('whose a figure is', () => {
  it('adds the lab\'s own count on top of the network\'s band, and its own jitter to the band\'s upper end', () => {
    assert.deepEqual(withOwnCount(band(100, 76, 125), 3), band(103, 76, 128));
    assert.deepEqual(withOwnCount(null, null), band(0, 0, 0), 'nothing of either: exactly none');
    const jitter = withOwnJitter(band(1.3, 0.9, 1.8), { typical: 0.2, high: 0.4 });
    assert.deepEqual(jitter.band99, [0.9, 2.2], 'raised by how high the lab\'s own went');
    assert.ok(Math.abs(jitter.mean - Math.hypot(1.3, 0.2)) < 1e-12, 'its typical value in the mean');
  });

  it('calls a figure the lab\'s where the lab\'s own part is larger than the network\'s', () => {
    // netem's jitter of 1.3 ms, the lab's own 0.2 ms: the figure is the network's, judged by its band.
    const jitter = (measured: number, own: number) => verdictOf(measured, band(1.3, 0.9, 1.8), own, withOwnJitter(band(1.3, 0.9, 1.8), { typical: own, high: 2 * own }), 'jitter');
    assert.equal(jitter(1.5, 0.2), 'inside');
    assert.equal(jitter(2.5, 0.2), 'outside');
    // The lab's own 3 ms (an overloaded guest, a stalled receiver) against netem's 1.3: the lab's, whatever it reads.
    assert.equal(jitter(3.1, 3), 'lab');
    assert.equal(jitter(1.4, 3), 'lab');
    // A profile that moves nothing in time adds no jitter and reorders nothing: what shows is the lab's.
    assert.equal(verdictOf(0.05, null, 0.05, withOwnJitter(null, { typical: 0.05, high: 0.1 }), 'jitter'), 'lab');
    assert.equal(verdictOf(0.05, null, null, withOwnJitter(null, null), 'jitter'), 'lab', 'even without a calibration');
    assert.equal(verdictOf(0, null, 0, withOwnCount(null, 0)), 'inside');
    // Reordered: an even stream under delay 10ms 2ms at 5 ms gaps is never reordered; a burst of the sender's is.
    const reordered = (measured: number, own: number) => verdictOf(measured, band(0, 0, 0), own, withOwnCount(band(0, 0, 0), own));
    assert.equal(reordered(1, 0), 'outside');
    assert.equal(reordered(1, 3), 'lab');
    assert.equal(reordered(0, 76), 'inside', 'none reordered is what the network gives, whatever the lab could have added');
    assert.equal(reordered(80, 76), 'outside', 'more than both together');
  });

  it('judges TCP\'s goodput under a rate against the rate, unless the lab itself carries less', () => {
    assert.equal(goodputVerdict(9.2, 9.6, 60), 'inside');
    assert.equal(goodputVerdict(3, 9.6, 60), 'outside', 'far below what the rate lets through');
    assert.equal(goodputVerdict(11, 9.6, 60), 'outside', 'more than the rate lets through');
    assert.equal(goodputVerdict(40, 96, 60), 'lab', 'the lab carries 60 where the rate allows 96');
    assert.equal(goodputVerdict(40, null, 60), null, 'no rate: no expectation');
  });
});
