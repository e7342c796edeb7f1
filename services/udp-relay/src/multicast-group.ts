import { z } from 'zod';
import { ipv4ToNumber, numberToIpv4, prefixMask } from '@lab/protocol';

/** An IPv4 prefix inside 239.0.0.0/8, the administratively scoped multicast block (RFC 2365). */
export interface MulticastPrefix {
  base: number;
  bits: number;
}

export const multicastPrefixSchema = z.string().transform((text, ctx): MulticastPrefix => {
  const [ip = '', bitsText = ''] = text.split('/');
  const bits = Number(bitsText);
  const address = ipv4ToNumber(ip);
  if (address === null || !/^\d+$/.test(bitsText) || bits < 8 || bits > 30 || !ip.startsWith('239.')) {
    ctx.addIssue({ code: 'custom', message: 'expected an IPv4 prefix inside 239.0.0.0/8, /8 to /30, like 239.0.0.0/8' });
    return z.NEVER;
  }
  return { base: (address & prefixMask(bits)) >>> 0, bits };
});

/**
 * The group of a room: the prefix's host part counts rooms, skipping the prefix's first and last
 * address (so 239.0.0.0/8 gives room 0 the group 239.0.0.1). Rooms beyond the prefix's size wrap.
 */
export function multicastGroupFor(prefix: MulticastPrefix, room: number): string {
  const usable = 2 ** (32 - prefix.bits) - 2;
  return numberToIpv4((prefix.base + 1 + (room % usable)) >>> 0);
}
