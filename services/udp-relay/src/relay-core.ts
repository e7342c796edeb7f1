import { decodeDatagram, encodeDatagram, type Datagram, type ErrorCode } from '@lab/protocol';

export interface Endpoint {
  address: string;
  port: number;
}

export interface Outgoing {
  to: Endpoint;
  bytes: Buffer;
}

export interface RelayLimits {
  maxDatagramBytes: number;
  maxRooms: number;
  maxMembersPerRoom: number;
}

/** What the relay does with one datagram: what to send, and the drop reason if it dropped it. */
export interface Verdict {
  outgoing: Outgoing[];
  drop: ErrorCode | null;
}

interface Member extends Endpoint {
  sender: number;
  joinedAtMs: number;
  lastSeenMs: number;
}

export interface RoomCounters {
  in: number;
  out: number;
}

export interface RelayCounters {
  received: number;
  forwarded: number;
  dropped: Partial<Record<ErrorCode, number>>;
}

const keyOf = (endpoint: Endpoint) => `${endpoint.address}|${endpoint.port}`;

/**
 * The relay's decisions, without a socket (as ws keeps its receiver apart from the connection):
 * rooms, membership and unicast fan-out. Every datagram that is not forwarded or answered is counted
 * under one drop reason. Its direct answer (`joined`) is never larger than the join it answers, and
 * only members' data is forwarded, only to members.
 *
 * Known limit of this version: a join is taken at its word, so a forged source address can be made a
 * member and then receives the room's fan-out; members never expire. The return-path cookie, expiry
 * and per-source rate limits close that (issue 4); `lastSeenMs` is kept for the expiry.
 */
export class RelayCore {
  readonly #limits: RelayLimits;
  readonly #rooms = new Map<number, Map<string, Member>>();
  readonly #roomCounters = new Map<number, RoomCounters>();
  readonly counters: RelayCounters = { received: 0, forwarded: 0, dropped: {} };

  constructor(limits: RelayLimits) {
    this.#limits = limits;
  }

  handle(bytes: Buffer, from: Endpoint, nowMs: number): Verdict {
    this.counters.received++;
    const decoded = decodeDatagram(bytes, this.#limits.maxDatagramBytes);
    if (!decoded.ok) return this.#drop(decoded.code);
    const datagram = decoded.datagram;
    switch (datagram.type) {
      case 'join':
        return this.#join(datagram, from, nowMs);
      case 'leave':
        return this.#leave(datagram, from);
      case 'data':
        return this.#forward(datagram, bytes, from, nowMs);
      case 'joined':
        // Only the relay sends `joined`; accepting it would let two relays ping-pong forever.
        return this.#drop('LAB_ERR_DATAGRAM_BAD_TYPE');
    }
  }

  #join(datagram: Datagram, from: Endpoint, nowMs: number): Verdict {
    let room = this.#rooms.get(datagram.room);
    if (!room) {
      if (this.#rooms.size >= this.#limits.maxRooms) return this.#drop('LAB_ERR_TOO_MANY_ROOMS');
      room = new Map();
      this.#rooms.set(datagram.room, room);
      this.#roomCounters.set(datagram.room, { in: 0, out: 0 });
    }
    const key = keyOf(from);
    const existing = room.get(key);
    if (existing) existing.lastSeenMs = nowMs;
    else if (room.size >= this.#limits.maxMembersPerRoom) return this.#drop('LAB_ERR_ROOM_FULL');
    else room.set(key, { ...from, sender: datagram.sender, joinedAtMs: nowMs, lastSeenMs: nowMs });
    // The reply is the join's own header with the type changed and no payload: never larger than
    // the join, and the echoed sequence number and send time let the client match it and time it.
    const reply = encodeDatagram({ ...datagram, type: 'joined', payload: Buffer.alloc(0) });
    return { outgoing: [{ to: from, bytes: reply }], drop: null };
  }

  #leave(datagram: Datagram, from: Endpoint): Verdict {
    const room = this.#rooms.get(datagram.room);
    if (!room?.delete(keyOf(from))) return this.#drop('LAB_ERR_NOT_MEMBER');
    if (room.size === 0) {
      this.#rooms.delete(datagram.room);
      this.#roomCounters.delete(datagram.room);
    }
    return { outgoing: [], drop: null };
  }

  #forward(datagram: Datagram, bytes: Buffer, from: Endpoint, nowMs: number): Verdict {
    const room = this.#rooms.get(datagram.room);
    const key = keyOf(from);
    const member = room?.get(key);
    if (!room || !member) return this.#drop('LAB_ERR_NOT_MEMBER');
    member.lastSeenMs = nowMs;
    const outgoing: Outgoing[] = [];
    for (const [otherKey, other] of room) {
      if (otherKey !== key) outgoing.push({ to: { address: other.address, port: other.port }, bytes });
    }
    const counters = this.#roomCounters.get(datagram.room)!;
    counters.in++;
    counters.out += outgoing.length;
    this.counters.forwarded += outgoing.length;
    return { outgoing, drop: null };
  }

  #drop(code: ErrorCode): Verdict {
    this.counters.dropped[code] = (this.counters.dropped[code] ?? 0) + 1;
    return { outgoing: [], drop: code };
  }

  /** Rooms with their member count and datagram counters, for the periodic stats line. */
  rooms(): { room: number; members: number; in: number; out: number }[] {
    return [...this.#rooms].map(([room, members]) => ({ room, members: members.size, ...this.#roomCounters.get(room)! }));
  }
}
