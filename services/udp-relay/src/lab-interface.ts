import { networkInterfaces } from 'node:os';
import { broadcastAddress } from '@lab/protocol';

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
      const broadcast = broadcastAddress(info.address, info.netmask);
      if (broadcast) return { name, address: info.address, broadcast };
    }
  }
  return null;
}
