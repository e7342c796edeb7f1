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
import type { UdpAddress } from '@lab/protocol';
import { RelayCore, type RelayLimits } from './relay-core.ts';

const limits: RelayLimits = {
  maxDatagramBytes: 1500,
  maxRooms: 2,
  maxMembersPerRoom: 3,
  maxRoomsPerSource: 4,
  memberTtlMs: 30_000,
  keepaliveMs: 5000,
  packetsPerSecond: 1e6,
  bytesPerSecond: 1e9,
};
const delivery = {
  broadcast: { address: '10.0.0.255', port: 9002 },
  multicast: { groupFor: (room: number) => `239.0.0.${room + 1}`, port: 9003 },
};
const a: UdpAddress = { address: '10.0.0.2', port: 4000 };
const b: UdpAddress = { address: '10.0.0.3', port: 4000 };
const c: UdpAddress = { address: '10.0.0.3', port: 4001 };

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
function joinFully(relay: RelayCore, from: UdpAddress, room = 1, mode: DeliveryMode = 'unicast', nowMs = 0) {
  const challenge = relay.handle(joinBytes(room, mode), from, nowMs);
  assert.equal(challenge.drop, null);
  const decoded = decodeDatagram(challenge.outgoing[0]!.bytes);
  assert.ok(decoded.ok && decoded.datagram.type === 'challenge');
  const cookie = decodeControl(challengePayloadSchema, decoded.datagram.payload)!.cookie;
  const joined = relay.handle(joinBytes(room, mode, cookie), from, nowMs);
  assert.equal(joined.drop, null);
  const reply = decodeDatagram(joined.outgoing[0]!.bytes);
  assert.ok(reply.ok && reply.datagram.type === 'joined');
  assert.ok(joined.outgoing[0]!.bytes.length <= JOIN_MIN_BYTES, 'joined is not larger than the join');
  return decodeControl(joinedPayloadSchema, reply.datagram.payload)!;
}

const withoutToken = ({ token, ...rest }: { token: string } & Record<string, unknown>) => (assert.match(token, /^[0-9a-f]{32}$/), rest);
const proof = (token: string) => encodeControl({ token });

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
    assert.deepEqual(withoutToken(joinFully(relay, a)), { mode: 'unicast', address: a.address, port: a.port, keepaliveMs: 5000 });
    assert.equal(relay.isMember(1, a), true);
  });

  it('answers a wrong, foreign or expired cookie with a fresh challenge, and creates no membership', () => {
    const relay = core();
    const cookies = new JoinCookies(Buffer.alloc(32, 1));
    const attempts = [
      relay.handle(joinBytes(1, 'unicast', 'ab'.repeat(22)), a, 0),
      relay.handle(joinBytes(1, 'unicast', cookies.issue(b, 0)), a, 0), // another address's cookie
      relay.handle(joinBytes(1, 'unicast', cookies.issue(a, 0)), a, 25_000), // expired
    ];
    for (const verdict of attempts) {
      const reply = decodeDatagram(verdict.outgoing[0]!.bytes);
      assert.ok(reply.ok && reply.datagram.type === 'challenge');
      assert.deepEqual(verdict.outgoing[0]!.to, a);
    }
    assert.equal(relay.counters.badCookies, 3);
    assert.equal(relay.isMember(1, a), false);
    assert.deepEqual(relay.rooms(), []);
  });

  it('ignores port 0 (nothing can be answered there) instead of failing on it', () => {
    const relay = core();
    assert.deepEqual(relay.handle(joinBytes(1, 'unicast'), { address: a.address, port: 0 }, 0), { outgoing: [], drop: 'LAB_ERR_BAD_SOURCE' });
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
    assert.deepEqual(withoutToken(joinFully(relay, a, 0, 'broadcast')), { mode: 'broadcast', address: '10.0.0.255', port: 9002, keepaliveMs: 5000 });
    joinFully(relay, b, 0, 'broadcast');
    assert.deepEqual(relay.handle(datagram('data', 0), a, 0).outgoing.map((o) => o.to), [delivery.broadcast]);
    assert.deepEqual(withoutToken(joinFully(relay, a, 1, 'multicast')), { mode: 'multicast', address: '239.0.0.2', port: 9003, keepaliveMs: 5000 });
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

  it('stops delivering to a member that left, or that sent no keepalive within the TTL', () => {
    const relay = core({ memberTtlMs: 1000 });
    const tokenA = joinFully(relay, a).token;
    joinFully(relay, b);
    const tokenC = joinFully(relay, c).token;
    assert.equal(relay.handle(datagram('leave', 1, proof(tokenC)), c, 0).drop, null);
    // The member sends its leave again (nothing acknowledges one): not a drop, and c stays out.
    assert.deepEqual(relay.handle(datagram('leave', 1, proof(tokenC)), c, 0), { outgoing: [], drop: null });
    assert.equal(relay.counters.repeatedLeaves, 1);
    assert.deepEqual(relay.counters.dropped, {});
    assert.equal(relay.handle(datagram('keepalive', 1, proof(tokenA)), a, 900).drop, null);
    assert.equal(relay.handle(datagram('data'), b, 950).drop, null, 'b may still send…');
    assert.equal(relay.expire(1500), 1, '…but data does not keep a membership alive: b expires');
    assert.equal(relay.isMember(1, a), true);
    assert.equal(relay.isMember(1, b), false);
    assert.equal(relay.expire(3000), 1);
    assert.deepEqual(relay.rooms(), [], 'an empty room is forgotten');
    assert.equal(relay.counters.expired, 2);
  });

  it('lets nobody without the member\'s token keep it alive or make it leave', () => {
    const relay = core({ memberTtlMs: 1000 });
    const token = joinFully(relay, a).token;
    const forged = [datagram('keepalive'), datagram('keepalive', 1, proof('0'.repeat(32))), datagram('leave', 1, proof('f'.repeat(32)))];
    for (const bytes of forged) assert.equal(relay.handle(bytes, a, 500).drop, 'LAB_ERR_BAD_TOKEN');
    assert.equal(relay.isMember(1, a), true, 'a forged leave does not evict');
    assert.equal(relay.expire(1200), 1, 'forged keepalives did not keep it alive');
    assert.equal(relay.handle(datagram('keepalive', 1, proof(token)), a, 1300).drop, 'LAB_ERR_NOT_MEMBER');
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
    joinFully(relay, b, 2);
    const cookie3 = new JoinCookies(Buffer.alloc(32, 1)).issue(b, 0);
    assert.equal(relay.handle(joinBytes(3, 'unicast', cookie3), b, 0).drop, 'LAB_ERR_TOO_MANY_ROOMS');
  });

  it('limits how many rooms one source address may hold', () => {
    const relay = core({ maxRooms: 100 });
    for (let room = 1; room <= 4; room++) joinFully(relay, { address: a.address, port: room }, room);
    const fifth = { address: a.address, port: 5 };
    const cookie = new JoinCookies(Buffer.alloc(32, 1)).issue(fifth, 0);
    assert.equal(relay.handle(joinBytes(5, 'unicast', cookie), fifth, 0).drop, 'LAB_ERR_TOO_MANY_MEMBERSHIPS');
    joinFully(relay, b, 5); // another address is not affected
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

  it('survives 10,000 random and mutated datagrams: never answers more than it got, admits nobody, counts every drop (property)', () => {
    const seeds = [joinBytes(1, 'unicast'), joinBytes(2, 'multicast'), datagram('data', 1, Buffer.from('payload')), chat(1), datagram('leave', 1), datagram('keepalive', 2)];
    const mutated = fc
      .tuple(fc.constantFrom(...seeds), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 4 }), fc.nat())
      .map(([seed, flips, cut]) => {
        const copy = Buffer.from(seed);
        for (const [at, value] of flips) copy[at % copy.length] = value;
        return cut % 5 === 0 ? copy.subarray(0, cut % copy.length) : copy;
      });
    const input = fc.oneof(mutated, fc.uint8Array({ maxLength: 300 }).map((bytes) => Buffer.from(bytes)));
    const endpoint = fc.record({ address: fc.constantFrom('10.0.0.2', '10.0.0.3', '192.0.2.9'), port: fc.integer({ min: 0, max: 3 }) });
    const member = { address: '10.0.0.9', port: 9 };
    fc.assert(
      fc.property(fc.array(fc.tuple(input, endpoint, fc.integer({ min: 0, max: 50 })), { minLength: 10, maxLength: 20 }), (inputs) => {
        // A low packet rate, and time moving on, so that rate limiting and expiry are part of the run.
        const relay = core({ packetsPerSecond: 8, memberTtlMs: 60_000 });
        joinFully(relay, member, 1);
        let nowMs = 0;
        for (const [bytes, from, stepMs] of inputs) {
          nowMs += stepMs;
          const droppedBefore = Object.values(relay.counters.dropped).reduce((n, v) => n + (v ?? 0), 0);
          const verdict = relay.handle(bytes, from, nowMs);
          const droppedAfter = Object.values(relay.counters.dropped).reduce((n, v) => n + (v ?? 0), 0);
          if (verdict.drop) {
            assert.deepEqual(verdict.outgoing, [], 'a dropped datagram causes no send');
            assert.equal(droppedAfter, droppedBefore + 1, 'and is counted once');
          } else assert.equal(droppedAfter, droppedBefore);
          // Random sources are never members, so the only thing ever sent is an answer to a join:
          // one datagram, to the source, no larger than what the source sent.
          for (const out of verdict.outgoing) {
            assert.deepEqual(out.to, from);
            assert.ok(out.bytes.length <= bytes.length, `${out.bytes.length} bytes answered to ${bytes.length}`);
          }
          assert.ok(verdict.outgoing.length <= 1);
          assert.equal(relay.isMember(1, from) || relay.isMember(2, from), false, 'nobody is admitted without a cookie');
          relay.expire(nowMs);
        }
        assert.equal(relay.isMember(1, member), true, 'the real member was neither evicted nor expired by anything random');
      }),
      { numRuns: 1000 }, // at least 10,000 datagrams
    );
  });
});
