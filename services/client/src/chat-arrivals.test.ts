import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ChatArrivals } from './chat-arrivals.ts';

describe('a chat listener\'s arrivals', () => {
  it('are all in order and complete when every line comes once, in order (what TCP gives)', () => {
    const arrivals = new ChatArrivals(3);
    for (const line of [1, 2, 3]) arrivals.record(line, line * 10);
    assert.deepEqual(arrivals.list.map((a) => a.kind), ['in-order', 'in-order', 'in-order']);
    assert.ok(arrivals.complete);
    assert.deepEqual(arrivals.missing(), []);
  });

  it('tell a line that never came, one that came twice and one that came after a later one (what UDP can give)', () => {
    const arrivals = new ChatArrivals(5);
    for (const line of [1, 3, 2, 3, 5]) arrivals.record(line, 0);
    assert.deepEqual(arrivals.list.map((a) => `${a.line} ${a.kind}`), ['1 in-order', '3 in-order', '2 reordered', '3 duplicate', '5 in-order']);
    assert.deepEqual(arrivals.missing(), [4]);
    assert.equal(arrivals.complete, false);
  });

  it('keep a lost first line as missing: the later lines are still in order', () => {
    const arrivals = new ChatArrivals(3);
    arrivals.record(2, 5);
    arrivals.record(3, 6);
    assert.deepEqual(arrivals.list.map((a) => a.kind), ['in-order', 'in-order']);
    assert.deepEqual(arrivals.missing(), [1]);
  });

  it('refuse numbers that were never sent (a forged or corrupted line)', () => {
    const arrivals = new ChatArrivals(3);
    for (const line of [0, -1, 4, 1.5, Number.NaN]) assert.equal(arrivals.record(line, 0), null);
    assert.deepEqual(arrivals.list, []);
  });
});
