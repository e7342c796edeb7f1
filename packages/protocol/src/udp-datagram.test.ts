import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { DATAGRAM_HEADER_BYTES, decodeDatagram, encodeDatagram, type Datagram } from './udp-datagram.ts';

const sample: Datagram = {
  type: 'data',
  flags: 0,
  room: 7,
  sender: 0xdeadbeef,
  seq: 2n ** 63n + 5n,
  sendTimeUs: 1_764_000_000_000_000n,
  payload: Buffer.from('payload'),
};

describe('datagram codec', () => {
  it('has the documented fixed layout', () => {
    const bytes = encodeDatagram(sample);
    assert.equal(bytes.length, DATAGRAM_HEADER_BYTES + 7);
    assert.equal(bytes.subarray(0, 4).toString('hex'), '4c550104');
    assert.equal(bytes.readUInt32BE(8), 7);
    assert.equal(bytes.readBigUInt64BE(16), sample.seq);
  });

  it('round-trips any header and payload (property)', () => {
    const datagram = fc.record({
      type: fc.constantFrom('join' as const, 'joined' as const, 'leave' as const, 'data' as const),
      flags: fc.integer({ min: 0, max: 0xffff }),
      room: fc.integer({ min: 0, max: 0xffffffff }),
      sender: fc.integer({ min: 0, max: 0xffffffff }),
      seq: fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
      sendTimeUs: fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
      payload: fc.uint8Array({ maxLength: 200 }).map((a) => Buffer.from(a)),
    });
    fc.assert(
      fc.property(datagram, (d) => {
        assert.deepEqual(decodeDatagram(encodeDatagram(d)), { ok: true, datagram: { ...d } });
      }),
    );
  });

  it('rejects short, oversized, foreign, future and unknown datagrams with their codes', () => {
    const good = encodeDatagram(sample);
    const patched = (offset: number, value: number) => {
      const copy = Buffer.from(good);
      copy[offset] = value;
      return copy;
    };
    assert.deepEqual(decodeDatagram(good.subarray(0, DATAGRAM_HEADER_BYTES - 1)), { ok: false, code: 'LAB_ERR_DATAGRAM_TOO_SHORT' });
    assert.deepEqual(decodeDatagram(good, DATAGRAM_HEADER_BYTES), { ok: false, code: 'LAB_ERR_DATAGRAM_TOO_LARGE' });
    assert.deepEqual(decodeDatagram(patched(0, 0x00)), { ok: false, code: 'LAB_ERR_DATAGRAM_BAD_MAGIC' });
    assert.deepEqual(decodeDatagram(patched(2, 2)), { ok: false, code: 'LAB_ERR_DATAGRAM_BAD_VERSION' });
    assert.deepEqual(decodeDatagram(patched(3, 99)), { ok: false, code: 'LAB_ERR_DATAGRAM_BAD_TYPE' });
  });

  it('never throws on arbitrary bytes (property)', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 100 }), (bytes) => void decodeDatagram(Buffer.from(bytes))), {
      numRuns: 5000,
    });
  });
});
