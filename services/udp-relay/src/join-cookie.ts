import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { UdpAddress } from '@lab/protocol';


/**
 * Stateless return-path cookies, as DTLS's HelloVerifyRequest (RFC 6347 §4.2.1) and QUIC's Retry
 * (RFC 9000 §8.1) do: the relay answers a first join with HMAC(secret, time slot, address, port) and
 * keeps no state; only a client that really receives at that address can repeat the join with it.
 * A cookie is good for the slot it was made in and the next one (10 to 20 s by default).
 */
export class JoinCookies {
  readonly #secret: Buffer;
  readonly #slotMs: number;

  constructor(secret: Buffer = randomBytes(32), slotMs = 10_000) {
    this.#secret = secret;
    this.#slotMs = slotMs;
  }

  issue(from: UdpAddress, nowMs: number): string {
    const slot = Math.floor(nowMs / this.#slotMs);
    return slot.toString(16).padStart(12, '0') + this.#mac(slot, from).toString('hex');
  }

  verify(cookie: string, from: UdpAddress, nowMs: number): boolean {
    if (!/^[0-9a-f]{44}$/.test(cookie)) return false;
    const slot = Number.parseInt(cookie.slice(0, 12), 16);
    const current = Math.floor(nowMs / this.#slotMs);
    if (slot !== current && slot !== current - 1) return false;
    return timingSafeEqual(Buffer.from(cookie.slice(12), 'hex'), this.#mac(slot, from));
  }

  #mac(slot: number, from: UdpAddress): Buffer {
    return createHmac('sha256', this.#secret).update(`${slot}|${from.address}|${from.port}`).digest().subarray(0, 16);
  }
}
