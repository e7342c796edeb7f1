import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { StorageLedger, type PartialEntry, type PartialLimits } from './storage-ledger.ts';

const limits: PartialLimits = { ttlMs: 1000, maxCount: 5, maxBytes: 1000, maxCountPerAddress: 2, maxBytesPerAddress: 400 };

function partial(ledger: StorageLedger, n: number, size: number, owner: string | null, touchedMs = n): PartialEntry {
  return ledger.addPartial({ file: `.f${n}.${'0'.repeat(64)}.part`, name: `f${n}`, sha256: '0'.repeat(64), size, owner, touchedMs, active: false });
}

describe('StorageLedger', () => {
  it('counts stored files and partials, kept or being written, against the quota', () => {
    const ledger = new StorageLedger();
    ledger.setStored('a', 100);
    ledger.setStored('a', 150); // replaced by a new upload
    const p = partial(ledger, 1, 10, 'x');
    ledger.resizePartial(p, 60);
    assert.equal(ledger.usedBytes, 210);
    ledger.removeStored('a');
    ledger.removePartial(p);
    assert.equal(ledger.usedBytes, 0);
    assert.deepEqual(ledger.partialsOf('f1'), []);
  });

  it('does not keep an empty partial: there is nothing to resume', () => {
    const ledger = new StorageLedger();
    assert.deepEqual(ledger.planKeep(partial(ledger, 1, 0, 'x'), limits), { evict: [], keepBytes: 0 });
  });

  it('makes room within an address\'s share from that address\'s oldest partials only', () => {
    const ledger = new StorageLedger();
    const old = partial(ledger, 1, 10, 'x');
    partial(ledger, 2, 10, 'y');
    partial(ledger, 3, 10, 'x');
    const plan = ledger.planKeep(partial(ledger, 4, 10, 'x'), limits);
    assert.deepEqual(plan.evict, [old]);
    assert.equal(plan.keepBytes, 10);
  });

  it('cuts a partial that alone passes its address\'s bytes back to a prefix that fits', () => {
    const ledger = new StorageLedger();
    const mine = partial(ledger, 1, 100, 'x');
    const plan = ledger.planKeep(partial(ledger, 2, 900, 'x'), limits);
    assert.deepEqual(plan.evict, [mine]);
    assert.equal(plan.keepBytes, 400);
  });

  it('never removes another address\'s partials to make room: at the totals, a newcomer keeps nothing', () => {
    const ledger = new StorageLedger();
    for (let n = 1; n <= 5; n++) partial(ledger, n, 10, `a${n}`);
    assert.deepEqual(ledger.planKeep(partial(ledger, 6, 10, 'b'), limits), { evict: [], keepBytes: 0 });
    // Within the totals' bytes, it keeps what fits.
    const roomy = new StorageLedger();
    partial(roomy, 1, 950, 'a');
    assert.deepEqual(roomy.planKeep(partial(roomy, 2, 300, 'b'), limits), { evict: [], keepBytes: 50 });
  });

  it('removes nothing for an empty partial, even at the caps (a bare put header costs others nothing)', () => {
    const ledger = new StorageLedger();
    const mine = partial(ledger, 1, 10, 'x');
    partial(ledger, 2, 10, 'x');
    assert.deepEqual(ledger.planKeep(partial(ledger, 3, 0, 'x'), limits), { evict: [], keepBytes: 0 });
    assert.ok(ledger.holds(mine));
  });

  it('lets a stale entry remove nothing once a newer one holds its file', () => {
    const ledger = new StorageLedger();
    const old = partial(ledger, 1, 10, 'x');
    const newer = partial(ledger, 1, 30, 'y');
    ledger.removePartial(old);
    assert.ok(ledger.holds(newer));
    assert.equal(ledger.usedBytes, 30);
  });

  it('never expires or evicts a partial that is being written', () => {
    const ledger = new StorageLedger();
    const busy = partial(ledger, 1, 10, 'x');
    busy.active = true;
    partial(ledger, 2, 10, 'y');
    assert.deepEqual(ledger.expired(10_000, 1000).map((p) => p.name), ['f2']);
    const plan = ledger.planKeep(partial(ledger, 3, 10, 'x'), { ...limits, maxCountPerAddress: 1 });
    assert.deepEqual(plan.evict, []);
  });

  it('names the oldest partials to remove when those found at start pass the totals', () => {
    const ledger = new StorageLedger();
    for (let n = 1; n <= 8; n++) partial(ledger, n, 100, null);
    assert.deepEqual(ledger.overTotals(limits).map((p) => p.name), ['f1', 'f2', 'f3']);
    assert.deepEqual(ledger.overTotals({ ...limits, maxBytes: 250 }).map((p) => p.name), ['f1', 'f2', 'f3', 'f4', 'f5', 'f6']);
  });
});
