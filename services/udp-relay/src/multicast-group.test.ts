import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { multicastGroupFor, multicastPrefixSchema } from './multicast-group.ts';

describe('multicast groups', () => {
  it('maps rooms into the prefix, skipping its first and last address', () => {
    const prefix = multicastPrefixSchema.parse('239.0.0.0/8');
    assert.equal(multicastGroupFor(prefix, 0), '239.0.0.1');
    assert.equal(multicastGroupFor(prefix, 1), '239.0.0.2');
    assert.equal(multicastGroupFor(prefix, 65_535), '239.1.0.0');
    const small = multicastPrefixSchema.parse('239.255.7.0/30');
    assert.deepEqual([0, 1, 2].map((room) => multicastGroupFor(small, room)), ['239.255.7.1', '239.255.7.2', '239.255.7.1']);
  });

  it('refuses prefixes outside 239.0.0.0/8', () => {
    for (const bad of ['224.0.0.0/8', '239.0.0.0', '239.0.0.0/4', '10.0.0.0/8', '239.0.0.0/31']) {
      assert.equal(multicastPrefixSchema.safeParse(bad).success, false, bad);
    }
  });
});
