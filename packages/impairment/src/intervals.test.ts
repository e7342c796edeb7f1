import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { binomialInterval } from './intervals.ts';

/** P(X <= k) for X ~ Binomial(n, p), by direct summation (a slow, obvious reference). */
function cdf(n: number, p: number, k: number): number {
  let sum = 0;
  let term = (1 - p) ** n;
  for (let i = 0; i <= k; i++) {
    sum += term;
    term *= ((n - i) / (i + 1)) * (p / (1 - p));
  }
  return sum;
}

describe('intervals', () => {
  it('gives the exact central binomial interval', () => {
    for (const [n, p, confidence] of [[1000, 0.1, 0.95], [1000, 0.1, 0.99], [200, 0.01, 0.95], [2000, 0.3, 0.99], [50, 0.5, 0.95]] as const) {
      const [low, high] = binomialInterval(n, p, confidence);
      const tail = (1 - confidence) / 2;
      assert.ok(low === 0 || cdf(n, p, low - 1) <= tail + 1e-12, `P(X < ${low}) too large for n=${n} p=${p}`);
      assert.ok(low === 0 || cdf(n, p, low) > tail, `low ${low} could be higher`);
      assert.ok(1 - cdf(n, p, high) <= tail + 1e-12, `P(X > ${high}) too large`);
      assert.ok(1 - cdf(n, p, high - 1) > tail, `high ${high} could be lower`);
    }
    assert.deepEqual(binomialInterval(1000, 0, 0.95), [0, 0]);
    const [low, high] = binomialInterval(1000, 0.1, 0.95);
    assert.ok(low >= 80 && low <= 83 && high >= 117 && high <= 120, `${low}-${high} vs the normal approximation 81-119`);
  });
});
