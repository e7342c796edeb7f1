import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RateLimiter } from './rate-limiter.ts';

describe('RateLimiter', () => {
  it('allows a second\'s worth of packets, then refills at the rate', () => {
    const limiter = new RateLimiter({ packetsPerSecond: 10, bytesPerSecond: 1e9 });
    const allowed = Array.from({ length: 15 }, () => limiter.allow('10.0.0.2', 100, 0)).filter(Boolean).length;
    assert.equal(allowed, 10);
    assert.equal(limiter.allow('10.0.0.2', 100, 50), false, 'half a packet refilled after 50 ms');
    assert.equal(limiter.allow('10.0.0.2', 100, 100), true, 'one packet refilled after 100 ms');
    assert.equal(limiter.allow('10.0.0.3', 100, 100), true, 'another source has its own bucket');
  });

  it('limits bytes as well as packets', () => {
    const limiter = new RateLimiter({ packetsPerSecond: 1000, bytesPerSecond: 3000 });
    assert.deepEqual([1000, 1000, 1000, 1000].map((b) => limiter.allow('a', b, 0)), [true, true, true, false]);
  });

  it('forgets the least recently seen source past its table size', () => {
    const limiter = new RateLimiter({ packetsPerSecond: 1, bytesPerSecond: 1e9, maxSources: 2 });
    limiter.allow('a', 1, 0);
    limiter.allow('b', 1, 0);
    limiter.allow('a', 1, 0); // a is now the most recent, and empty
    limiter.allow('c', 1, 0); // evicts b
    assert.equal(limiter.sources, 2);
    assert.equal(limiter.allow('a', 1, 0), false, 'a kept its (empty) bucket');
    assert.equal(limiter.allow('b', 1, 0), true, 'b starts over: it was forgotten');
  });
});
