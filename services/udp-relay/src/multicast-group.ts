import { isIPv4 } from 'node:net';
import { z } from 'zod';

/** An IPv4 prefix inside 239.0.0.0/8, the administratively scoped multicast block (RFC 2365). */
export interface MulticastPrefix {
  base: number;
  bits: number;
}

const toNumber = (ip: string) => ip.split('.').reduce((n, part) => n * 256 + Number(part), 0);
const toText = (n: number) => [24, 16, 8, 0].map((shift) => (n >>> shift) & 255).join('.');

export const multicastPrefixSchema = z.string().transform((text, ctx): MulticastPrefix => {
  const [ip = '', bitsText = ''] = text.split('/');
  const bits = Number(bitsText);
  if (!isIPv4(ip) || !/^\d+$/.test(bitsText) || bits < 8 || bits > 30 || !ip.startsWith('239.')) {
    ctx.addIssue({ code: 'custom', message: 'expected an IPv4 prefix inside 239.0.0.0/8, /8 to /30, like 239.0.0.0/8' });
    return z.NEVER;
  }
  const mask = (~0 << (32 - bits)) >>> 0; // bits is 8..30: the shift is in range
  return { base: (toNumber(ip) & mask) >>> 0, bits };
});

/**
 * The group of a room: the prefix's host part counts rooms, skipping the prefix's first and last
 * address (so 239.0.0.0/8 gives room 0 the group 239.0.0.1). Rooms beyond the prefix's size wrap.
 */
export function multicastGroupFor(prefix: MulticastPrefix, room: number): string {
  const usable = 2 ** (32 - prefix.bits) - 2;
  return toText((prefix.base + 1 + (room % usable)) >>> 0);
}
