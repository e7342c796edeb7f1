import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  challengePayloadSchema,
  DATAGRAM_HEADER_BYTES,
  decodeControl,
  decodeDatagram,
  encodeControl,
  encodeDatagram,
  joinedPayloadSchema,
  JOIN_MIN_BYTES,
  type DatagramTypeName,
  type DeliveryMode,
} from '@lab/protocol';
import { JoinCookies } from './join-cookie.ts';
import { RelayCore, type Endpoint, type RelayLimits } from './relay-core.ts';

const limits: RelayLimits = {
  maxDatagramBytes: 1500,
  maxRooms: 2,
  maxMembersPerRoom: 3,
  memberTtlMs: 30_000,
  keepaliveMs: 5000,
  packetsPerSecond: 1e6,
  bytesPerSecond: 1e9,
};
const delivery = {
  broadcast: { address: '10.0.0.255', port: 9002 },
  multicast: { groupFor: (room: number) => `239.0.0.${room + 1}`, port: 9003 },
};
const a: Endpoint = { address: '10.0.0.2', port: 4000 };
const b: Endpoint = { address: '10.0.0.3', port: 4000 };
const c: Endpoint = { address: '10.0.0.3', port: 4001 };

function core(overrides: Partial<RelayLimits> = {}): RelayCore {
  return new RelayCore({ ...limits, ...overrides }, delivery, new JoinCookies(Buffer.alloc(32, 1)));
}

function datagram(type: DatagramTypeName, room = 1, payload: Buffer = Buffer.alloc(0), seq = 0n): Buffer {
  return encodeDatagram({ type, flags: 0, room, sender: 9, seq, sendTimeUs: 123n, payload });
}

function joinBytes(room: number, mode: DeliveryMode, cookie?: string): Buffer {
  return datagram('join', room, encodeControl(cookie ? { mode, cookie } : { mode }, JOIN_MIN_BYTES));
}

/** The whole join: first try, challenge, second try with the cookie; returns the joined payload. */
function joinFully(relay: RelayCore, from: Endpoint, room = 1, mode: DeliveryMode = 'unicast', nowMs = 0) {
  const challenge = relay.handle(joinBytes(room, mode), from, nowMs);
  assert.equal(challenge.drop, null);
  const decoded = decodeDatagram(challenge.outgoing[0]!.bytes);
  assert.ok(decoded.ok && decoded.datagram.type === 'challenge');
  const cookie = decodeControl(challengePayloadSchema, decoded.datagram.payload)!.cookie;
  const joined = relay.handle(joinBytes(room, mode, cookie), from, nowMs);
  assert.equal(joined.drop, null);
  const reply = decodeDatagram(joined.outgoing[0]!.bytes);
  assert.ok(reply.ok && reply.datagram.type === 'joined');
  return decodeControl(joinedPayloadSchema, reply.datagram.payload)!;
}

const chat = (room = 1) => datagram('chat', room, encodeControl({ name: 'ann', text: 'hi' }));

describe('RelayCore', () => {
  it('answers a first join with a challenge, and only the repeated join with its cookie makes a member', () => {
    const relay = core();
    const first = joinBytes(1, 'unicast');
    const verdict = relay.handle(first, a, 0);
    assert.equal(verdict.outgoing.length, 1);
    assert.deepEqual(verdict.outgoing[0]!.to, a);
    assert.ok(verdict.outgoing[0]!.bytes.length <= first.length, 'the challenge is not larger than the join');
    assert.equal(relay.isMember(1, a), false, 'a challenge creates no membership');
    assert.deepEqual(joinFully(relay, a), { mode: 'unicast', address: a.address, port: a.port, keepaliveMs: 5000 });
    assert.equal(relay.isMember(1, a), true);
  });

  it('creates no membership for a join with a wrong, foreign or expired cookie', () => {
    const relay = core();
    const cookies = new JoinCookies(Buffer.alloc(32, 1));
    assert.equal(relay.handle(joinBytes(1, 'unicast', 'ab'.repeat(22)), a, 0).drop, 'LAB_ERR_BAD_COOKIE');
    assert.equal(relay.handle(joinBytes(1, 'unicast', cookies.issue(b, 0)), a, 0).drop, 'LAB_ERR_BAD_COOKIE', 'another address\'s cookie');
    assert.equal(relay.handle(joinBytes(1, 'unicast', cookies.issue(a, 0)), a, 25_000).drop, 'LAB_ERR_BAD_COOKIE', 'expired');
    assert.equal(relay.isMember(1, a), false);
    assert.deepEqual(relay.rooms(), []);
  });

  it('never sends a spoofed source more bytes than the join that named it carried', () => {
    const relay = core();
    for (const size of [JOIN_MIN_BYTES, 600, 1400]) {
      const join = datagram('join', 1, encodeControl({ mode: 'unicast' }, size));
      const sent = relay.handle(join, { address: '192.0.2.7', port: 53 }, 0).outgoing.reduce((n, o) => n + o.bytes.length, 0);
      assert.ok(sent <= join.length, `${sent} bytes for a ${join.length}-byte join`);
    }
    const small = datagram('join', 1, encodeControl({ mode: 'unicast' }));
    assert.deepEqual(relay.handle(small, a, 0), { outgoing: [], drop: 'LAB_ERR_JOIN_TOO_SMALL' });
  });

  it('fans data out to every other member in unicast mode, never back to the sender', () => {
    const relay = core();
    for (const who of [a, b, c]) joinFully(relay, who);
    const data = datagram('data', 1, Buffer.from('x'), 1n);
    const verdict = relay.handle(data, b, 1);
    assert.deepEqual(verdict.outgoing.map((o) => o.to), [a, c]);
    assert.ok(verdict.outgoing.every((o) => o.bytes.equals(data)));
    assert.deepEqual(relay.rooms(), [{ room: 1, mode: 'unicast', members: 3, in: 1, out: 2, dropped: {} }]);
  });

  it('sends one copy to the broadcast address or the room\'s multicast group, and says where to listen', () => {
    const relay = core();
    assert.deepEqual(joinFully(relay, a, 0, 'broadcast'), { mode: 'broadcast', address: '10.0.0.255', port: 9002, keepaliveMs: 5000 });
    joinFully(relay, b, 0, 'broadcast');
    assert.deepEqual(relay.handle(datagram('data', 0), a, 0).outgoing.map((o) => o.to), [delivery.broadcast]);
    assert.deepEqual(joinFully(relay, a, 1, 'multicast'), { mode: 'multicast', address: '239.0.0.2', port: 9003, keepaliveMs: 5000 });
    assert.deepEqual(relay.handle(datagram('data', 1), a, 0).outgoing.map((o) => o.to), [{ address: '239.0.0.2', port: 9003 }]);
  });

  it('refuses a join in another mode than the room\'s, and a mode the relay cannot deliver', () => {
    const relay = core();
    joinFully(relay, a, 1, 'unicast');
    const cookie = new JoinCookies(Buffer.alloc(32, 1)).issue(b, 0);
    assert.equal(relay.handle(joinBytes(1, 'multicast', cookie), b, 0).drop, 'LAB_ERR_MODE_MISMATCH');
    const noMulticast = new RelayCore(limits, { broadcast: null, multicast: null }, new JoinCookies());
    assert.equal(noMulticast.handle(joinBytes(1, 'multicast'), a, 0).drop, 'LAB_ERR_MODE_MISMATCH');
  });

  it('drops data from a non-member and from a member of another room', () => {
    const relay = core();
    joinFully(relay, a, 1);
    joinFully(relay, b, 2);
    assert.equal(relay.handle(datagram('data', 1), c, 0).drop, 'LAB_ERR_NOT_MEMBER');
    assert.equal(relay.handle(datagram('data', 1), b, 0).drop, 'LAB_ERR_NOT_MEMBER');
    assert.deepEqual(relay.counters.dropped, { LAB_ERR_NOT_MEMBER: 2 });
    assert.deepEqual(relay.rooms().find((r) => r.room === 1)?.dropped, { LAB_ERR_NOT_MEMBER: 2 });
  });

  it('stops delivering to a member that left, or that went silent past the TTL; keepalives keep it', () => {
    const relay = core({ memberTtlMs: 1000 });
    joinFully(relay, a);
    joinFully(relay, b);
    joinFully(relay, c);
    assert.equal(relay.handle(datagram('leave'), c, 0).drop, null);
    assert.equal(relay.handle(datagram('keepalive'), a, 900).drop, null);
    assert.equal(relay.expire(1500), 1, 'b was silent since 0');
    assert.equal(relay.isMember(1, a), true);
    assert.equal(relay.isMember(1, b), false);
    assert.equal(relay.expire(3000), 1);
    assert.deepEqual(relay.rooms(), [], 'an empty room is forgotten');
    assert.equal(relay.counters.expired, 2);
  });

  it('validates chat and end payloads before relaying them', () => {
    const relay = core();
    joinFully(relay, a);
    joinFully(relay, b);
    assert.equal(relay.handle(chat(), a, 0).outgoing.length, 1);
    assert.equal(relay.handle(datagram('chat', 1, Buffer.from('not json')), a, 0).drop, 'LAB_ERR_BAD_PAYLOAD');
    assert.equal(relay.handle(datagram('end', 1, encodeControl({ sent: -1 })), a, 0).drop, 'LAB_ERR_BAD_PAYLOAD');
    assert.equal(relay.handle(datagram('end', 1, encodeControl({ sent: 10 })), a, 0).outgoing.length, 1);
  });

  it('enforces members per room and the number of rooms', () => {
    const relay = core();
    for (const port of [1, 2, 3]) joinFully(relay, { address: a.address, port });
    const cookie = new JoinCookies(Buffer.alloc(32, 1)).issue({ address: a.address, port: 4 }, 0);
    assert.equal(relay.handle(joinBytes(1, 'unicast', cookie), { address: a.address, port: 4 }, 0).drop, 'LAB_ERR_ROOM_FULL');
    joinFully(relay, a, 2);
    const cookie3 = new JoinCookies(Buffer.alloc(32, 1)).issue(a, 0);
    assert.equal(relay.handle(joinBytes(3, 'unicast', cookie3), a, 0).drop, 'LAB_ERR_TOO_MANY_ROOMS');
  });

  it('drops and counts what a source sends beyond its packet rate', () => {
    const relay = core({ packetsPerSecond: 5 });
    const verdicts = Array.from({ length: 8 }, () => relay.handle(datagram('data'), a, 0));
    assert.equal(verdicts.filter((v) => v.drop === 'LAB_ERR_RATE_LIMITED').length, 3);
    assert.equal(relay.counters.dropped.LAB_ERR_RATE_LIMITED, 3);
    assert.equal(relay.handle(datagram('data'), b, 0).drop, 'LAB_ERR_NOT_MEMBER', 'another source is not limited by a');
  });

  it('counts malformed datagrams by reason and never answers them', () => {
    const relay = core();
    const good = joinBytes(1, 'unicast');
    const bad = [good.subarray(0, DATAGRAM_HEADER_BYTES - 1), Buffer.alloc(1501), Buffer.concat([Buffer.from([0, 0]), good.subarray(2)]), datagram('joined'), datagram('challenge')];
    for (const bytes of bad) assert.deepEqual(relay.handle(bytes, a, 0).outgoing, []);
    assert.deepEqual(relay.counters.dropped, {
      LAB_ERR_DATAGRAM_TOO_SHORT: 1,
      LAB_ERR_DATAGRAM_TOO_LARGE: 1,
      LAB_ERR_DATAGRAM_BAD_MAGIC: 1,
      LAB_ERR_DATAGRAM_BAD_TYPE: 2,
    });
  });

  it('survives 10,000 random and mutated datagrams: every one delivered, answered or counted; no member it did not admit (property)', () => {
    const seeds = [joinBytes(1, 'unicast'), joinBytes(2, 'multicast'), datagram('data', 1, Buffer.from('payload')), chat(1), datagram('leave', 1), datagram('keepalive', 2)];
    const mutated = fc
      .tuple(fc.constantFrom(...seeds), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 4 }), fc.nat())
      .map(([seed, flips, cut]) => {
        const copy = Buffer.from(seed);
        for (const [at, value] of flips) copy[at % copy.length] = value;
        return cut % 5 === 0 ? copy.subarray(0, cut % copy.length) : copy;
      });
    const input = fc.oneof(mutated, fc.uint8Array({ maxLength: 300 }).map((bytes) => Buffer.from(bytes)));
    const endpoint = fc.record({ address: fc.constantFrom('10.0.0.2', '10.0.0.3', '192.0.2.9'), port: fc.integer({ min: 1, max: 3 }) });
    fc.assert(
      fc.property(fc.array(fc.tuple(input, endpoint), { minLength: 10, maxLength: 20 }), (inputs) => {
        const relay = core();
        joinFully(relay, { address: '10.0.0.9', port: 9 }, 1); // one real member, so data has somewhere to go
        const before = { ...relay.counters, dropped: { ...relay.counters.dropped } };
        let answered = 0;
        let delivered = 0;
        for (const [bytes, from] of inputs) {
          const verdict = relay.handle(bytes, from, 0);
          if (verdict.drop) assert.deepEqual(verdict.outgoing, []);
          const toSource = verdict.outgoing.filter((o) => o.to.address === from.address && o.to.port === from.port);
          for (const o of toSource) assert.ok(o.bytes.length <= bytes.length, 'an answer is never larger than what it answers');
          if (!verdict.drop) (toSource.length > 0 && toSource.length === verdict.outgoing.length ? answered++ : delivered++);
          // No random bytes carry a valid cookie, so nobody but the real member is ever admitted.
          assert.equal(relay.isMember(1, from) || relay.isMember(2, from), false);
        }
        const dropped = Object.values(relay.counters.dropped).reduce((n, v) => n + (v ?? 0), 0) - Object.values(before.dropped).reduce((n, v) => n + (v ?? 0), 0);
        assert.equal(relay.counters.received - before.received, inputs.length);
        assert.equal(dropped + answered + delivered, inputs.length, 'each datagram is delivered, answered or counted as dropped');
      }),
      { numRuns: 1000 }, // at least 10,000 datagrams
    );
  });
});
