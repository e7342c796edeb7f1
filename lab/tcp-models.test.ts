import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { mathisBitsPerSecond, rfc5348BitsPerSecond } from './tcp-models.ts';

describe('TCP throughput models', () => {
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
