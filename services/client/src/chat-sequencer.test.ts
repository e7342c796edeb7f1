import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ChatSequencer } from './chat-sequencer.ts';

describe('ChatSequencer', () => {
  it('reports gaps, duplicates and late arrivals per sender', () => {
    const seq = new ChatSequencer();
    const kinds = ([[1, 5], [1, 6], [1, 9], [1, 9], [1, 7], [2, 0], [1, 10], [1, 7]] as const).map(([sender, n]) => seq.accept(sender, BigInt(n)));
    assert.deepEqual(kinds, [
      { kind: 'in-order' }, // 5: the first heard from sender 1 is the baseline
      { kind: 'in-order' },
      { kind: 'gap', missing: 2, from: 7n, to: 8n },
      { kind: 'duplicate' },
      { kind: 'late', highest: 9n },
      { kind: 'in-order' }, // another sender has its own numbers
      { kind: 'in-order' },
      { kind: 'duplicate' }, // 7 again, after it came late
    ]);
  });
});
