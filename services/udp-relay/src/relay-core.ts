import { randomBytes } from 'node:crypto';
import {
  chatPayloadSchema,
  decodeControl,
  decodeDatagram,
  encodeControl,
  encodeDatagram,
  endPayloadSchema,
  joinPayloadSchema,
  JOIN_MIN_BYTES,
  memberTokenPayloadSchema,
  type Datagram,
  type DeliveryMode,
  type ErrorCode,
  type JoinedPayload,
  type UdpAddress,
} from '@lab/protocol';
import type { JoinCookies } from './join-cookie.ts';
import { RateLimiter } from './rate-limiter.ts';

export interface Outgoing {
  to: UdpAddress;
  bytes: Buffer;
}

export interface RelayLimits {
  maxDatagramBytes: number;
  maxRooms: number;
  maxMembersPerRoom: number;
  /** How many rooms one source address may be a member of (so one client cannot hoard every room). */
  maxRoomsPerSource: number;
  /** A member that sent nothing (not even a keepalive) for this long is dropped. */
  memberTtlMs: number;
  /** Told to members in `joined`: how often to send a keepalive. */
  keepaliveMs: number;
  packetsPerSecond: number;
  bytesPerSecond: number;
}

/** Where one send reaches a whole room, for the modes that need no copy per member. */
export interface Delivery {
  /** The lab subnet's broadcast address and the port receivers listen on; null: mode unavailable. */
  broadcast: UdpAddress | null;
  /** Maps a room to its multicast group; null: mode unavailable. */
  multicast: { groupFor: (room: number) => string; port: number } | null;
}

/** What the relay does with one datagram: what to send, and the drop reason if it dropped it. */
export interface Verdict {
  readonly outgoing: readonly Outgoing[];
  readonly drop: ErrorCode | null;
}

/**
 * One verdict per drop reason, made once: a flood is mostly drops (its source's rate limit), and each
 * dropped datagram then costs no allocation of its own.
 */
const dropVerdicts = new Map<ErrorCode, Verdict>();
const dropVerdict = (code: ErrorCode): Verdict => {
  let verdict = dropVerdicts.get(code);
  if (!verdict) dropVerdicts.set(code, (verdict = Object.freeze({ outgoing: Object.freeze([]), drop: code })));
  return verdict;
};

interface Member extends UdpAddress {
  sender: number;
  token: string;
  lastSeenMs: number;
}

interface Room {
  mode: DeliveryMode;
  members: Map<string, Member>;
  in: number;
  out: number;
  dropped: Partial<Record<ErrorCode, number>>;
}

export interface RelayCounters {
  received: number;
  forwarded: number;
  /** Joins answered with a challenge: first tries, and tries with a stale or foreign cookie. */
  challenged: number;
  /** Of those, joins whose cookie was not valid (a relay restart, an old cookie, a forgery). */
  badCookies: number;
  expired: number;
  /**
   * Leaves for a membership that is already gone. Leaving is idempotent: nothing acknowledges a leave,
   * so a member may send it more than once, and a copy after the first is counted here, not as a drop.
   */
  repeatedLeaves: number;
  dropped: Partial<Record<ErrorCode, number>>;
}

const keyOf = (endpoint: UdpAddress) => `${endpoint.address}|${endpoint.port}`;
const count = (table: Partial<Record<ErrorCode, number>>, code: ErrorCode) => (table[code] = (table[code] ?? 0) + 1);

/**
 * The relay's decisions, without a socket (as ws keeps its receiver apart from the connection): rooms,
 * membership, delivery in three modes, expiry and rate limits. Every datagram that is neither delivered
 * nor answered is counted under exactly one drop reason.
 *
 * Not an amplifier: the only datagrams sent to an address that is not (yet) a member are the answers to
 * its join (challenge, joined), and a join must be padded to JOIN_MIN_BYTES, larger than either answer.
 * Membership needs the return-path cookie (join-cookie.ts), so a forged source address cannot be made a
 * member, and so cannot be sent the room's traffic; keepalive and leave need the member's token, so a
 * forger can neither keep a departed member alive nor evict a present one. What a forger who knows a
 * member's address and sender id can still do is inject data into the room: UDP has no authentication,
 * and the lab's datagrams carry none.
 */
export class RelayCore {
  readonly #limits: RelayLimits;
  readonly #delivery: Delivery;
  readonly #cookies: JoinCookies;
  readonly #rate: RateLimiter;
  readonly #rooms = new Map<number, Room>();
  readonly #roomsOfSource = new Map<string, number>();
  readonly counters: RelayCounters = { received: 0, forwarded: 0, challenged: 0, badCookies: 0, expired: 0, repeatedLeaves: 0, dropped: {} };

  constructor(limits: RelayLimits, delivery: Delivery, cookies: JoinCookies) {
    this.#limits = limits;
    this.#delivery = delivery;
    this.#cookies = cookies;
    this.#rate = new RateLimiter({ packetsPerSecond: limits.packetsPerSecond, bytesPerSecond: limits.bytesPerSecond });
  }

  handle(bytes: Buffer, from: UdpAddress, nowMs: number): Verdict {
    this.counters.received++;
    // Port 0 is a source nothing can answer (sendto fails); only a forger or a broken stack uses it.
    if (from.port === 0) return this.#drop('LAB_ERR_BAD_SOURCE');
    if (!this.#rate.allow(from.address, bytes.length, nowMs)) return this.#drop('LAB_ERR_RATE_LIMITED');
    const decoded = decodeDatagram(bytes, this.#limits.maxDatagramBytes);
    if (!decoded.ok) return this.#drop(decoded.code);
    const datagram = decoded.datagram;
    switch (datagram.type) {
      case 'join':
        return this.#join(datagram, bytes.length, from, nowMs);
      case 'leave':
      case 'keepalive':
        return this.#stay(datagram, from, nowMs);
      case 'data':
      case 'chat':
      case 'end':
        return this.#deliver(datagram, bytes, from);
      case 'joined':
      case 'challenge':
        // Only the relay sends these; accepting them would let two relays ping-pong forever.
        return this.#drop('LAB_ERR_DATAGRAM_BAD_TYPE');
    }
  }

  #join(datagram: Datagram, size: number, from: UdpAddress, nowMs: number): Verdict {
    if (size < JOIN_MIN_BYTES) return this.#drop('LAB_ERR_JOIN_TOO_SMALL');
    const join = decodeControl(joinPayloadSchema, datagram.payload);
    if (!join) return this.#drop('LAB_ERR_BAD_PAYLOAD');
    if (join.mode === 'broadcast' && !this.#delivery.broadcast) return this.#drop('LAB_ERR_MODE_MISMATCH');
    if (join.mode === 'multicast' && !this.#delivery.multicast) return this.#drop('LAB_ERR_MODE_MISMATCH');
    // No cookie, or one that is stale or not ours (the relay restarted, or a forger guessed): a fresh
    // challenge, smaller than the join. Only a source that receives at its address can go on.
    if (join.cookie === undefined || !this.#cookies.verify(join.cookie, from, nowMs)) {
      if (join.cookie !== undefined) this.counters.badCookies++;
      this.counters.challenged++;
      return this.#reply(datagram, 'challenge', { cookie: this.#cookies.issue(from, nowMs) }, from);
    }

    let room = this.#rooms.get(datagram.room);
    if (!room) {
      if (this.#rooms.size >= this.#limits.maxRooms) return this.#drop('LAB_ERR_TOO_MANY_ROOMS');
      room = { mode: join.mode, members: new Map(), in: 0, out: 0, dropped: {} };
      this.#rooms.set(datagram.room, room);
    }
    if (room.mode !== join.mode) return this.#drop('LAB_ERR_MODE_MISMATCH', room);
    const key = keyOf(from);
    let member = room.members.get(key);
    if (member) member.lastSeenMs = nowMs;
    else {
      if (room.members.size >= this.#limits.maxMembersPerRoom) return this.#drop('LAB_ERR_ROOM_FULL', room);
      const held = this.#roomsOfSource.get(from.address) ?? 0;
      if (held >= this.#limits.maxRoomsPerSource) return this.#drop('LAB_ERR_TOO_MANY_MEMBERSHIPS', room);
      this.#roomsOfSource.set(from.address, held + 1);
      member = { ...from, sender: datagram.sender, token: randomBytes(16).toString('hex'), lastSeenMs: nowMs };
      room.members.set(key, member);
    }
    return this.#reply(datagram, 'joined', this.#whereToListen(room.mode, datagram.room, member), from);
  }

  #whereToListen(mode: DeliveryMode, room: number, member: Member): JoinedPayload {
    const common = { keepaliveMs: this.#limits.keepaliveMs, token: member.token };
    if (mode === 'broadcast') return { mode, address: this.#delivery.broadcast!.address, port: this.#delivery.broadcast!.port, ...common };
    if (mode === 'multicast') return { mode, address: this.#delivery.multicast!.groupFor(room), port: this.#delivery.multicast!.port, ...common };
    return { mode, address: member.address, port: member.port, ...common };
  }

  /** An answer to a join: its own header with another type and a JSON payload, never larger than the join. */
  #reply(datagram: Datagram, type: 'challenge' | 'joined', payload: object, to: UdpAddress): Verdict {
    const bytes = encodeDatagram({ ...datagram, type, payload: encodeControl(payload) });
    return { outgoing: [{ to, bytes }], drop: null };
  }

  #member(datagram: Datagram, from: UdpAddress): { room: Room; member: Member } | ErrorCode {
    const room = this.#rooms.get(datagram.room);
    const member = room?.members.get(keyOf(from));
    if (!room || !member || member.sender !== datagram.sender) return 'LAB_ERR_NOT_MEMBER';
    return { room, member };
  }

  /**
   * Keepalive and leave change a membership, so they must prove it is theirs: the token from `joined`.
   * Data does not keep a membership alive: a forger of a departed member's address could otherwise keep
   * the room's traffic flowing to it.
   */
  #stay(datagram: Datagram, from: UdpAddress, nowMs: number): Verdict {
    const found = this.#member(datagram, from);
    if (found === 'LAB_ERR_NOT_MEMBER' && datagram.type === 'leave') {
      // Leaving is idempotent: the membership is gone, which is what the leave asked for.
      this.counters.repeatedLeaves++;
      return { outgoing: [], drop: null };
    }
    if (typeof found === 'string') return this.#drop(found, this.#rooms.get(datagram.room));
    if (decodeControl(memberTokenPayloadSchema, datagram.payload)?.token !== found.member.token) return this.#drop('LAB_ERR_BAD_TOKEN', found.room);
    found.member.lastSeenMs = nowMs;
    if (datagram.type === 'leave') this.#remove(datagram.room, found.room, keyOf(from));
    return { outgoing: [], drop: null };
  }

  #deliver(datagram: Datagram, bytes: Buffer, from: UdpAddress): Verdict {
    const found = this.#member(datagram, from);
    if (typeof found === 'string') return this.#drop(found, this.#rooms.get(datagram.room));
    const { room } = found;
    if (datagram.type === 'chat' && !decodeControl(chatPayloadSchema, datagram.payload)) return this.#drop('LAB_ERR_BAD_PAYLOAD', room);
    if (datagram.type === 'end' && !decodeControl(endPayloadSchema, datagram.payload)) return this.#drop('LAB_ERR_BAD_PAYLOAD', room);
    const outgoing: Outgoing[] = [];
    if (room.mode === 'broadcast') outgoing.push({ to: this.#delivery.broadcast!, bytes });
    else if (room.mode === 'multicast') outgoing.push({ to: { address: this.#delivery.multicast!.groupFor(datagram.room), port: this.#delivery.multicast!.port }, bytes });
    else {
      const self = keyOf(from);
      for (const [key, other] of room.members) if (key !== self) outgoing.push({ to: { address: other.address, port: other.port }, bytes });
    }
    room.in++;
    room.out += outgoing.length;
    this.counters.forwarded += outgoing.length;
    return { outgoing, drop: null };
  }

  /** Drops members silent for longer than the TTL; returns how many. Call it about once a second. */
  expire(nowMs: number): number {
    let expired = 0;
    for (const [id, room] of this.#rooms) {
      for (const [key, member] of room.members) {
        if (nowMs - member.lastSeenMs > this.#limits.memberTtlMs) {
          this.#remove(id, room, key);
          expired++;
        }
      }
    }
    this.counters.expired += expired;
    return expired;
  }

  #remove(id: number, room: Room, key: string): void {
    const member = room.members.get(key);
    if (!member) return;
    room.members.delete(key);
    const held = (this.#roomsOfSource.get(member.address) ?? 1) - 1;
    if (held > 0) this.#roomsOfSource.set(member.address, held);
    else this.#roomsOfSource.delete(member.address);
    if (room.members.size === 0) this.#rooms.delete(id);
  }

  #drop(code: ErrorCode, room?: Room): Verdict {
    count(this.counters.dropped, code);
    if (room) count(room.dropped, code);
    return dropVerdict(code);
  }

  /** Rooms with mode, member count and datagram counters, for the periodic stats line. */
  rooms(): { room: number; mode: DeliveryMode; members: number; in: number; out: number; dropped: Partial<Record<ErrorCode, number>> }[] {
    return [...this.#rooms].map(([room, r]) => ({ room, mode: r.mode, members: r.members.size, in: r.in, out: r.out, dropped: r.dropped }));
  }

  /** Is `endpoint` a member of `room`? (for tests and diagnostics) */
  isMember(room: number, endpoint: UdpAddress): boolean {
    return this.#rooms.get(room)?.members.has(keyOf(endpoint)) ?? false;
  }
}
