// IPv4 addresses as 32-bit numbers (RFC 791 §3.1): what a subnet holds, its directed broadcast address,
// a prefix's first address. One place for the arithmetic the client and the relay both do.

/** A dotted-quad address as an unsigned 32-bit number; null for anything else (a name, IPv6, "1.2.3"). */
export function ipv4ToNumber(text: string): number | null {
  const parts = text.split('.');
  // No leading zeros: "010" is octal to inet_aton(3) and decimal to others, so it is refused, as
  // Node's isIPv4 does.
  if (parts.length !== 4 || parts.some((part) => !/^(0|[1-9]\d{0,2})$/.test(part) || Number(part) > 255)) return null;
  return parts.reduce((n, part) => n * 256 + Number(part), 0) >>> 0;
}

export function numberToIpv4(n: number): string {
  return [24, 16, 8, 0].map((shift) => (n >>> shift) & 255).join('.');
}

/** The netmask of a prefix length, as a number: 24 gives 255.255.255.0. */
export function prefixMask(bits: number): number {
  if (!Number.isInteger(bits) || bits < 0 || bits > 32) throw new RangeError(`a prefix length is 0 to 32, not ${bits}`);
  // A shift by 32 is a shift by 0 in JavaScript: /0 is spelled out.
  return bits === 0 ? 0 : (~0 << (32 - bits)) >>> 0;
}

/** Does the subnet of `address`/`netmask` hold `other`? False where any of them is not IPv4. */
export function sameSubnet(address: string, netmask: string, other: string): boolean {
  const [a, mask, b] = [ipv4ToNumber(address), ipv4ToNumber(netmask), ipv4ToNumber(other)];
  if (a === null || mask === null || b === null) return false;
  return (a & mask) >>> 0 === (b & mask) >>> 0;
}

/** The subnet's directed broadcast address, address | ~netmask (RFC 919, RFC 922); null where either is not IPv4. */
export function broadcastAddress(address: string, netmask: string): string | null {
  const [a, mask] = [ipv4ToNumber(address), ipv4ToNumber(netmask)];
  if (a === null || mask === null) return null;
  return numberToIpv4((a | ~mask) >>> 0);
}
