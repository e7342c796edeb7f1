import { LabError } from '@lab/protocol';

/**
 * The address a connection is counted under: IPv4 clients of an IPv6 socket arrive as "::ffff:a.b.c.d"
 * (ipv6(7), IPv4-mapped addresses) and are the same client as "a.b.c.d"; Unix-socket clients, which have
 * no address, share one.
 */
export function addressKey(remoteAddress: string | undefined): string {
  if (!remoteAddress) return 'unix';
  return remoteAddress.toLowerCase().startsWith('::ffff:') && remoteAddress.includes('.') ? remoteAddress.slice(7) : remoteAddress;
}

/**
 * Open connections, in total and per client address: one address may hold at most its share of the
 * slots, so that it cannot lock every other client out (as nginx's limit_conn keyed by address).
 */
export class ConnectionShares {
  readonly maxTotal: number;
  readonly maxPerAddress: number;
  readonly #open = new Map<string, number>();
  #total = 0;

  constructor(maxTotal: number, maxPerAddress: number) {
    this.maxTotal = maxTotal;
    this.maxPerAddress = maxPerAddress;
  }

  get total(): number {
    return this.#total;
  }

  /** Counts a new connection from `address`, or says why it is refused (and counts nothing). */
  admit(address: string): LabError | null {
    if (this.#total >= this.maxTotal) {
      return new LabError('LAB_ERR_TOO_MANY_CONNECTIONS', `the server has ${this.maxTotal} connections open`);
    }
    const mine = this.#open.get(address) ?? 0;
    if (mine >= this.maxPerAddress) {
      return new LabError('LAB_ERR_TOO_MANY_CONNECTIONS', `${address} has ${this.maxPerAddress} connections open, its most`);
    }
    this.#open.set(address, mine + 1);
    this.#total++;
    return null;
  }

  release(address: string): void {
    const mine = this.#open.get(address) ?? 0;
    if (mine === 0) return;
    if (mine === 1) this.#open.delete(address);
    else this.#open.set(address, mine - 1);
    this.#total--;
  }
}
