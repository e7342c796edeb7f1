import { networkInterfaces } from 'node:os';

export interface LabInterface {
  name: string;
  address: string;
  broadcast: string;
}

/**
 * The first non-loopback IPv4 interface (in a lab container: its only one) and its subnet's broadcast
 * address, address | ~netmask (RFC 919/922 directed broadcast). Null where there is none.
 */
export function findLabInterface(): LabInterface | null {
  for (const [name, addresses] of Object.entries(networkInterfaces())) {
    for (const info of addresses ?? []) {
      if (info.family !== 'IPv4' || info.internal) continue;
      const octets = info.address.split('.').map(Number);
      const mask = info.netmask.split('.').map(Number);
      return { name, address: info.address, broadcast: octets.map((o, i) => (o | (~mask[i]! & 255)) & 255).join('.') };
    }
  }
  return null;
}
