import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { DATAGRAM_HEADER_BYTES, encodeDatagram, type DatagramTypeName } from '@lab/protocol';
import { RelayCore, type Endpoint } from './relay-core.ts';

const limits = { maxDatagramBytes: 1500, maxRooms: 2, maxMembersPerRoom: 3 };
const a: Endpoint = { address: '10.0.0.2', port: 4000 };
const b: Endpoint = { address: '10.0.0.3', port: 4000 };
const c: Endpoint = { address: '10.0.0.3', port: 4001 };

function datagram(type: DatagramTypeName, room = 1, payload = Buffer.alloc(0), seq = 0n): Buffer {
  return encodeDatagram({ type, flags: 0, room, sender: 9, seq, sendTimeUs: 123n, payload });
}

describe('RelayCore', () => {
  it('answers a join with a joined reply no larger than the join', () => {
    const core = new RelayCore(limits);
    const join = datagram('join');
    const verdict = core.handle(join, a, 0);
    assert.equal(verdict.drop, null);
    assert.equal(verdict.outgoing.length, 1);
    assert.deepEqual(verdict.outgoing[0]!.to, a);
    assert.ok(verdict.outgoing[0]!.bytes.length <= join.length);
    assert.equal(verdict.outgoing[0]!.bytes[3], 2, 'type joined');
  });

  it('forwards a member\'s data to every other member and not back to the sender', () => {
    const core = new RelayCore(limits);
    for (const who of [a, b, c]) core.handle(datagram('join'), who, 0);
    const data = datagram('data', 1, Buffer.from('x'), 1n);
    const verdict = core.handle(data, b, 1);
    assert.deepEqual(verdict.outgoing.map((o) => o.to), [a, c]);
    assert.ok(verdict.outgoing.every((o) => o.bytes.equals(data)));
    assert.deepEqual(core.rooms(), [{ room: 1, members: 3, in: 1, out: 2 }]);
  });

  it('drops data from a non-member and from a member of another room', () => {
    const core = new RelayCore(limits);
    core.handle(datagram('join', 1), a, 0);
    core.handle(datagram('join', 2), b, 0);
    assert.equal(core.handle(datagram('data', 1), c, 0).drop, 'LAB_ERR_NOT_MEMBER');
    assert.equal(core.handle(datagram('data', 1), b, 0).drop, 'LAB_ERR_NOT_MEMBER');
    assert.deepEqual(core.counters.dropped, { LAB_ERR_NOT_MEMBER: 2 });
  });

  it('stops forwarding to a member that left', () => {
    const core = new RelayCore(limits);
    core.handle(datagram('join'), a, 0);
    core.handle(datagram('join'), b, 0);
    assert.equal(core.handle(datagram('leave'), b, 0).drop, null);
    assert.deepEqual(core.handle(datagram('data'), a, 0).outgoing, []);
    assert.equal(core.handle(datagram('leave'), b, 0).drop, 'LAB_ERR_NOT_MEMBER');
  });

  it('enforces members per room and the number of rooms', () => {
    const core = new RelayCore(limits);
    for (const port of [1, 2, 3]) core.handle(datagram('join', 1), { address: a.address, port }, 0);
    assert.equal(core.handle(datagram('join', 1), { address: a.address, port: 4 }, 0).drop, 'LAB_ERR_ROOM_FULL');
    assert.equal(core.handle(datagram('join', 1), { address: a.address, port: 1 }, 0).drop, null, 'a repeated join is fine');
    core.handle(datagram('join', 2), a, 0);
    assert.equal(core.handle(datagram('join', 3), a, 0).drop, 'LAB_ERR_TOO_MANY_ROOMS');
  });

  it('counts malformed datagrams by reason and never answers them', () => {
    const core = new RelayCore(limits);
    const good = datagram('join');
    const bad = [good.subarray(0, DATAGRAM_HEADER_BYTES - 1), Buffer.alloc(1501), Buffer.concat([Buffer.from([0, 0]), good.subarray(2)]), datagram('joined')];
    for (const bytes of bad) assert.deepEqual(core.handle(bytes, a, 0).outgoing, []);
    assert.deepEqual(core.counters.dropped, {
      LAB_ERR_DATAGRAM_TOO_SHORT: 1,
      LAB_ERR_DATAGRAM_TOO_LARGE: 1,
      LAB_ERR_DATAGRAM_BAD_MAGIC: 1,
      LAB_ERR_DATAGRAM_BAD_TYPE: 1,
    });
  });

  it('answers no more bytes than it got, and sends data only to members, whatever arrives (property)', () => {
    const hosts = ['10.0.0.2', '10.0.0.3', '10.0.0.4'];
    const valid = fc
      .record({ type: fc.constantFrom('join' as const, 'leave' as const, 'data' as const, 'joined' as const), room: fc.integer({ min: 1, max: 3 }) })
      .map(({ type, room }) => datagram(type, room, Buffer.from('payload')));
    const bytes = fc.oneof(valid, fc.uint8Array({ maxLength: 80 }).map((a) => Buffer.from(a)));
    const endpoint = fc.record({ address: fc.constantFrom(...hosts), port: fc.integer({ min: 1, max: 2 }) });
    fc.assert(
      fc.property(fc.array(fc.tuple(bytes, endpoint), { maxLength: 60 }), (inputs) => {
        const core = new RelayCore(limits);
        const members = new Map<string, Set<number>>(); // endpoint -> rooms it is a member of (our own model)
        for (const [input, from] of inputs) {
          const key = `${from.address}|${from.port}`;
          const verdict = core.handle(input, from, 0);
          const isValid = input.length >= DATAGRAM_HEADER_BYTES && input.readUInt16BE(0) === 0x4c55 && input[2] === 1;
          const type = isValid ? input[3] : 0;
          const room = isValid ? input.readUInt32BE(8) : -1;
          if (verdict.drop !== null) assert.equal(verdict.outgoing.length, 0, 'a dropped datagram causes no send');
          if (type === 1 && verdict.drop === null) members.set(key, (members.get(key) ?? new Set()).add(room));
          if (type === 3 && verdict.drop === null) members.get(key)?.delete(room);
          for (const out of verdict.outgoing) {
            const outKey = `${out.to.address}|${out.to.port}`;
            if (type === 1) {
              assert.equal(outKey, key, 'a join is answered to its source only');
              assert.ok(out.bytes.length <= input.length, 'the answer is not larger than the join');
            } else {
              assert.equal(type, 4, 'only joins are answered and only data is forwarded');
              assert.ok(members.get(key)?.has(room), 'data is forwarded only from a member');
              assert.ok(members.get(outKey)?.has(room), 'data is forwarded only to a member');
              assert.notEqual(outKey, key, 'never back to the sender');
            }
          }
        }
        const dropped = Object.values(core.counters.dropped).reduce((sum, n) => sum + (n ?? 0), 0);
        assert.ok(dropped <= core.counters.received);
      }),
      { numRuns: 3000 },
    );
  });
});
