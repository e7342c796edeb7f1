import { randomInt } from 'node:crypto';
import { createSocket, type Socket } from 'node:dgram';
import { setTimeout as sleep } from 'node:timers/promises';
import { decodeDatagram, encodeDatagram, LabError, type Datagram } from '@lab/protocol';
import type { Logger } from '@lab/runtime';
import { nowMicros } from './clock.ts';

export interface RelayEndpoint {
  /** An IP address (resolve names once, before: a name here would be looked up on every send). */
  address: string;
  port: number;
}

export interface UdpMemberOptions {
  relay: RelayEndpoint;
  room: number;
  log: Logger;
  /** Called for every data datagram from the relay, with its arrival time. */
  onData?: (datagram: Datagram, arrivalUs: bigint) => void;
  joinTimeoutMs?: number;
  /** SO_RCVBUF in bytes (socket(7)); the kernel doubles it and caps it at net.core.rmem_max. */
  receiveBufferBytes?: number;
}

/**
 * One UDP socket that is a member of a relay room. Joining is retransmitted until the relay confirms it,
 * because the join itself is a datagram and may be lost like any other. Datagrams from any address but
 * the relay's are ignored (and counted), since anyone can send to an open UDP port.
 */
export class UdpMember {
  readonly sender = randomInt(1, 2 ** 32 - 1);
  readonly #options: UdpMemberOptions;
  readonly #socket: Socket;
  #joined: (() => void) | null = null;
  #closed = false;
  ignored = 0;

  private constructor(options: UdpMemberOptions, socket: Socket) {
    this.#options = options;
    this.#socket = socket;
    socket.on('message', (bytes, from) => this.#onMessage(bytes, from.address, from.port));
    socket.on('error', (error) => options.log.warn('udp-socket-error', { error }));
  }

  static async open(options: UdpMemberOptions): Promise<UdpMember> {
    const socket = createSocket({ type: 'udp4' });
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(0, () => {
        socket.off('error', reject);
        resolve();
      });
    });
    if (options.receiveBufferBytes) socket.setRecvBufferSize(options.receiveBufferBytes);
    const member = new UdpMember(options, socket);
    options.log.debug('udp-bind', { localPort: socket.address().port, sender: member.sender });
    return member;
  }

  get localPort(): number {
    return this.#socket.address().port;
  }

  /** Sends a join every 200 ms until the relay answers `joined`, or fails with LAB_ERR_JOIN_TIMEOUT. */
  async join(): Promise<void> {
    const { room, log, joinTimeoutMs = 10_000 } = this.#options;
    const confirmed = new Promise<void>((resolve) => (this.#joined = resolve));
    const deadline = Date.now() + joinTimeoutMs;
    let attempt = 0;
    let done = false;
    void confirmed.then(() => (done = true));
    while (!done) {
      if (Date.now() >= deadline) {
        throw new LabError('LAB_ERR_JOIN_TIMEOUT', `no answer from relay ${this.#options.relay.address}:${this.#options.relay.port} for room ${room} after ${attempt} joins`);
      }
      this.send('join', BigInt(attempt++), Buffer.alloc(0));
      await Promise.race([confirmed, sleep(200)]);
    }
    log.debug('udp-joined', { room, localPort: this.localPort, attempts: attempt });
  }

  /** `sent` is called once the kernel took the datagram, or with the error (udp(7): ENOBUFS, ECONNREFUSED…). */
  send(type: 'join' | 'leave' | 'data', seq: bigint, payload: Buffer, sent?: (error: Error | null) => void): void {
    const bytes = encodeDatagram({ type, flags: 0, room: this.#options.room, sender: this.sender, seq, sendTimeUs: nowMicros(), payload });
    this.#socket.send(bytes, this.#options.relay.port, this.#options.relay.address, (error) => sent?.(error ?? null));
  }

  #onMessage(bytes: Buffer, address: string, port: number): void {
    const arrivalUs = nowMicros();
    if (address !== this.#options.relay.address || port !== this.#options.relay.port) {
      this.ignored++;
      return;
    }
    const decoded = decodeDatagram(bytes);
    if (!decoded.ok || decoded.datagram.room !== this.#options.room) {
      this.ignored++;
      return;
    }
    const datagram = decoded.datagram;
    if (datagram.type === 'joined' && datagram.sender === this.sender) this.#joined?.();
    else if (datagram.type === 'data') this.#options.onData?.(datagram, arrivalUs);
    else this.ignored++;
  }

  /** Leaves the room (best effort: a lost leave is not retried) and closes the socket. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await new Promise<void>((resolve) => this.send('leave', 0n, Buffer.alloc(0), () => resolve()));
    await new Promise<void>((resolve) => this.#socket.close(() => resolve()));
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}
