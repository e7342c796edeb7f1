import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { binomialInterval, mathisBitsPerSecond, pathLoss, rfc5348BitsPerSecond } from './models.ts';

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

describe('models', () => {
  it('compounds independent loss over hops', () => {
    assert.ok(Math.abs(pathLoss(0.1, 1) - 0.1) < 1e-12);
    assert.ok(Math.abs(pathLoss(0.1, 2) - 0.19) < 1e-12);
    assert.equal(pathLoss(0, 4), 0);
  });

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

  it('computes the Mathis bound: (MSS/RTT) * sqrt(3/2) / sqrt(p)', () => {
    // 1448-byte segments, 10 ms RTT, 1% loss: 1448*8/0.01 * 1.2247/0.1 = 14.19 Mbit/s
    assert.ok(Math.abs(mathisBitsPerSecond(1448, 0.01, 0.01) - 14_187_000) < 1000);
    assert.equal(mathisBitsPerSecond(1448, 0.01, 0), Infinity);
  });

  it('RFC 5348 section 3.1: the timeout term takes over as loss grows', () => {
    // s = 1448 B, R = 10 ms, p = 1%, t_RTO = 200 ms: R*sqrt(2p/3) = 0.8165 ms; the RTO term is
    // 0.2 * 3*sqrt(0.00375) * 0.01 * 1.0032 = 0.3685 ms; X = 11584 bit / 1.1850 ms = 9.775 Mbit/s.
    assert.ok(Math.abs(rfc5348BitsPerSecond(1448, 0.01, 0.01, 0.2) - 9_775_000) < 5000, String(rfc5348BitsPerSecond(1448, 0.01, 0.01, 0.2)));
    assert.equal(rfc5348BitsPerSecond(1448, 0.01, 0, 0.2), Infinity);
    // Without timeouts it is Mathis with C = sqrt(3/2).
    assert.ok(Math.abs(rfc5348BitsPerSecond(1448, 0.01, 0.01, 0) - mathisBitsPerSecond(1448, 0.01, 0.01)) < 1);
    // At 30% loss timeouts dominate: far below Mathis.
    assert.ok(rfc5348BitsPerSecond(1448, 0.001, 0.3, 0.2) < mathisBitsPerSecond(1448, 0.001, 0.3) / 100);
  });
});
