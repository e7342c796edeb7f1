import { LabError } from '@lab/protocol';

/**
 * The address a client is counted under (its share of connections and of kept partial uploads):
 * - an IPv4 client of an IPv6 socket arrives as "::ffff:a.b.c.d" (ipv6(7), IPv4-mapped) and is "a.b.c.d";
 * - an IPv6 client is its /64: one host is given a whole /64 and picks addresses from it at will
 *   (RFC 4291 §2.5.4, temporary addresses of RFC 8981), so counting single addresses would count nothing;
 * - Unix-socket clients, which have no address, share one.
 */
export function addressKey(remoteAddress: string | undefined): string {
  if (!remoteAddress) return 'unix';
  const address = remoteAddress.toLowerCase().replace(/%.*$/, ''); // a zone id ("%eth0") is not the host's
  if (!address.includes(':')) return address;
  if (address.startsWith('::ffff:') && address.includes('.')) return address.slice(7);
  return `${ipv6Groups(address).slice(0, 4).join(':')}::/64`;
}

/** The eight 16-bit groups of an IPv6 address in hex without leading zeros ("::" expanded; a dotted tail counts two). */
function ipv6Groups(address: string): string[] {
  const split = (part: string) => (part === '' ? [] : part.split(':').flatMap((g) => (g.includes('.') ? ['0', '0'] : [g])));
  const [head = '', tail] = address.split('::');
  const front = split(head);
  const back = tail === undefined ? [] : split(tail);
  const groups = tail === undefined ? front : [...front, ...Array<string>(Math.max(0, 8 - front.length - back.length)).fill('0'), ...back];
  return groups.map((g) => Number.parseInt(g || '0', 16).toString(16));
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
