import { randomInt } from 'node:crypto';
import { createSocket, type Socket } from 'node:dgram';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  challengePayloadSchema,
  decodeControl,
  decodeDatagram,
  encodeControl,
  encodeDatagram,
  joinedPayloadSchema,
  JOIN_MIN_BYTES,
  LabError,
  type Datagram,
  type DatagramTypeName,
  type DeliveryMode,
  type JoinedPayload,
  type UdpAddress,
} from '@lab/protocol';
import type { Logger } from '@lab/runtime';
import { nowMicros } from './clock.ts';

export interface UdpMemberOptions {
  /** The relay: an IP address (resolve a name once, before). */
  relay: UdpAddress;
  room: number;
  mode: DeliveryMode;
  log: Logger;
  /** Called for every room datagram (data, chat, end) from the relay, with its arrival time. */
  onDatagram?: (datagram: Datagram, arrivalUs: bigint) => void;
  joinTimeoutMs?: number;
  /** SO_RCVBUF in bytes (socket(7)); the kernel doubles it and caps it at net.core.rmem_max. */
  receiveBufferBytes?: number;
  /** The local address to send from (bind(2)); all of them when absent. A host with several addresses picks its source this way. */
  localAddress?: string;
  /**
   * Talk to the relay only: connect(2) the socket to it (udp(7)). Node then sends each datagram at once,
   * inside send(), where an unconnected socket looks the address up first and sends on the next tick: a
   * paced sender's datagram leaves when its send time is stamped, not after whatever ran in between.
   */
  connect?: boolean;
}

const roomTypes = new Set<DatagramTypeName>(['data', 'chat', 'end']);
/** How many times a leave is sent (see close()). */
const LEAVE_COPIES = 3;

/**
 * One client of a relay room. Its main socket talks to the relay (join, keepalive, sending) and, in
 * unicast mode, receives the room's copies. In broadcast and multicast mode the room's datagrams go to
 * a shared address, so a second socket listens there: bound to the port the relay named, with
 * SO_REUSEADDR so that several members on one host all get every datagram (socket(7)), and, for
 * multicast, a member of the group (ip(7): IP_ADD_MEMBERSHIP), which makes the kernel send an IGMP join.
 *
 * Joining takes two rounds: the relay answers the first join with a cookie (proof that we receive at
 * our address) and admits the second. Both are retransmitted, because they are datagrams and can be lost.
 */
export class UdpMember {
  readonly sender = randomInt(1, 2 ** 32 - 1);
  readonly #options: UdpMemberOptions;
  readonly #socket: Socket;
  #listener: Socket | null = null;
  #cookie: string | undefined;
  /** Wakes the join loop when a challenge arrives, so the join is repeated at once with its cookie. */
  #challenged: (() => void) | null = null;
  #joined: ((payload: JoinedPayload) => void) | null = null;
  #token = '';
  #keepalive: NodeJS.Timeout | null = null;
  #closed = false;

  private constructor(options: UdpMemberOptions, socket: Socket) {
    this.#options = options;
    this.#socket = socket;
    this.#listen(socket);
  }

  static async open(options: UdpMemberOptions): Promise<UdpMember> {
    const socket = await bound(0, false, options.localAddress);
    if (options.receiveBufferBytes) socket.setRecvBufferSize(options.receiveBufferBytes);
    if (options.connect) await new Promise<void>((resolve) => socket.connect(options.relay.port, options.relay.address, () => resolve()));
    const member = new UdpMember(options, socket);
    options.log.debug('udp-bind', { localPort: socket.address().port, sender: member.sender, mode: options.mode });
    return member;
  }

  get localPort(): number {
    return this.#socket.address().port;
  }

  #listen(socket: Socket): void {
    socket.on('message', (bytes, from) => this.#onMessage(bytes, from.address, from.port));
    socket.on('error', (error) => this.#options.log.warn('udp-socket-error', { error }));
  }

  /** Joins (cookie round included), opens the listening socket the mode needs, starts keepalives. */
  async join(): Promise<JoinedPayload> {
    const { room, mode, log, joinTimeoutMs = 10_000 } = this.#options;
    let joined: JoinedPayload | null = null;
    const confirmed = new Promise<JoinedPayload>((resolve) => (this.#joined = resolve));
    void confirmed.then((payload) => (joined = payload));
    const deadline = Date.now() + joinTimeoutMs;
    let attempts = 0;
    while (!joined) {
      if (this.#closed) throw new LabError('LAB_ERR_JOIN_TIMEOUT', 'closed while joining');
      if (Date.now() >= deadline) {
        throw new LabError('LAB_ERR_JOIN_TIMEOUT', `no answer from relay ${this.#options.relay.address}:${this.#options.relay.port} for room ${room} (${mode}) after ${attempts} joins; is the relay up, and does it offer ${mode}?`);
      }
      const cookie = this.#cookie;
      const challenge = new Promise<void>((resolve) => (this.#challenged = resolve));
      this.#send('join', BigInt(attempts++), encodeControl(cookie ? { mode, cookie } : { mode }, JOIN_MIN_BYTES));
      // A challenge answers quickly: repeat the join at once with its cookie; else retry after 200 ms.
      const timer = new AbortController();
      await Promise.race([confirmed, challenge, sleep(200, undefined, { signal: timer.signal }).catch(() => {})]);
      timer.abort();
      this.#challenged = null;
    }
    const payload = joined as JoinedPayload;
    this.#token = payload.token;
    if (payload.mode !== 'unicast') await this.#openListener(payload);
    this.#keepalive = setInterval(() => {
      if (!this.#closed) this.#send('keepalive', 0n, encodeControl({ token: this.#token }));
    }, Math.max(100, payload.keepaliveMs / 2));
    this.#keepalive.unref();
    log.debug('udp-joined', { room, mode, localPort: this.localPort, attempts, listen: payload.address ? `${payload.address}:${payload.port}` : undefined });
    return payload;
  }

  async #openListener(payload: JoinedPayload): Promise<void> {
    const listener = await bound(payload.port!, true);
    try {
      if (this.#options.receiveBufferBytes) listener.setRecvBufferSize(this.#options.receiveBufferBytes);
      if (payload.mode === 'multicast') listener.addMembership(payload.address!);
    } catch (error) {
      listener.close();
      throw new LabError('LAB_ERR_CONNECTION', `cannot listen on ${payload.address}:${payload.port}: ${(error as Error).message}`, { cause: error });
    }
    if (this.#closed) {
      listener.close();
      return;
    }
    this.#listen(listener);
    this.#listener = listener;
  }

  /** Sends a room datagram (data, chat, end) of this member's stream. */
  send(type: 'data' | 'chat' | 'end', seq: bigint, payload: Buffer, sent?: (error: Error | null) => void): void {
    this.#send(type, seq, payload, sent);
  }

  /** `sent` is called once the kernel took the datagram, or with the error (udp(7): ENOBUFS, ECONNREFUSED…). */
  #send(type: DatagramTypeName, seq: bigint, payload: Buffer, sent?: (error: Error | null) => void): void {
    const bytes = encodeDatagram({ type, flags: 0, room: this.#options.room, sender: this.sender, seq, sendTimeUs: nowMicros(), payload });
    if (this.#options.connect) this.#socket.send(bytes, (error) => sent?.(error ?? null));
    else this.#socket.send(bytes, this.#options.relay.port, this.#options.relay.address, (error) => sent?.(error ?? null));
  }

  /** Takes what the relay sent for this room; anything else (another source, another room, malformed) is ignored. */
  #onMessage(bytes: Buffer, address: string, port: number): void {
    const arrivalUs = nowMicros();
    if (address !== this.#options.relay.address || port !== this.#options.relay.port) return;
    const decoded = decodeDatagram(bytes);
    if (!decoded.ok || decoded.datagram.room !== this.#options.room) return;
    const datagram = decoded.datagram;
    if (datagram.type === 'challenge' && datagram.sender === this.sender) {
      this.#cookie = decodeControl(challengePayloadSchema, datagram.payload)?.cookie ?? this.#cookie;
      this.#challenged?.();
    } else if (datagram.type === 'joined' && datagram.sender === this.sender) {
      const payload = decodeControl(joinedPayloadSchema, datagram.payload);
      if (payload) this.#joined?.(payload);
    } else if (roomTypes.has(datagram.type)) {
      this.#options.onDatagram?.(datagram, arrivalUs);
    }
  }

  /**
   * Leaves the room and closes the sockets. Idempotent. Nothing acknowledges a leave, and on a lossy path
   * one is easily lost: the relay would then fan the room's next traffic out to this closed port (the
   * host answers each copy with an ICMP port unreachable) until the membership expires. UDP leaves such
   * loss to the application (RFC 8085, 3.3), so the leave is sent LEAVE_COPIES times: at 30% loss all
   * three are lost 2.7% of the time, not 30%. Leaving is idempotent on the relay (docs/udp-datagram.md),
   * so the copies that arrive after the first do no harm. Expiry still ends a membership whose every copy was lost.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#keepalive) clearInterval(this.#keepalive);
    const token = this.#token;
    if (token) for (let copy = 0; copy < LEAVE_COPIES; copy++) await new Promise<void>((resolve) => this.#send('leave', BigInt(copy), encodeControl({ token }), () => resolve()));
    await Promise.all([this.#socket, this.#listener].filter((s): s is Socket => s !== null).map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

function bound(port: number, reuseAddr: boolean, address?: string): Promise<Socket> {
  const socket = createSocket({ type: 'udp4', reuseAddr });
  return new Promise((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(port, address, () => {
      socket.off('error', reject);
      resolve(socket);
    });
  });
}
