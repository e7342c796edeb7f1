import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ChatSequencer } from './chat-sequencer.ts';

describe('ChatSequencer', () => {
  it('reports gaps, duplicates and arrivals out of order per sender', () => {
    const seq = new ChatSequencer();
    const kinds = ([[1, 5], [1, 6], [1, 9], [1, 9], [1, 7], [2, 0], [1, 10], [1, 7]] as const).map(([sender, n]) => seq.accept(sender, BigInt(n)));
    assert.deepEqual(kinds, [
      { kind: 'in-order' }, // 5: the first heard from sender 1 is the baseline
      { kind: 'in-order' },
      { kind: 'gap', missing: 2, from: 7n, to: 8n },
      { kind: 'duplicate' },
      { kind: 'reordered', highest: 9n, wasCountedLost: true },
      { kind: 'in-order' }, // another sender has its own numbers
      { kind: 'in-order' },
      { kind: 'duplicate' }, // 7 again, after it came out of order
    ]);
  });

  it('does not take a reordered arrival off the lost count unless it was counted lost', () => {
    const seq = new ChatSequencer();
    seq.accept(1, 10n);
    assert.deepEqual(seq.accept(1, 4n), { kind: 'reordered', highest: 10n, wasCountedLost: false }, 'before the first message heard');
    seq.accept(1, 13n); // 11, 12 lost
    assert.deepEqual(seq.accept(1, 12n), { kind: 'reordered', highest: 13n, wasCountedLost: true });
    assert.deepEqual(seq.accept(2, 0n), { kind: 'in-order' });
  });
});
