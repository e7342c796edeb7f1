import { parseSnmpCounters, readSnmpCounters } from './proc-net-snmp.ts';

/**
 * The kernel's UDP counters for this network namespace (/proc/net/snmp, "Udp:" lines; see udp(7)).
 * RcvbufErrors counts datagrams dropped because a socket's receive buffer was full: loss caused by this
 * host being too slow to read, not by the network. InErrors includes them, plus bad checksums.
 */
export interface UdpHostCounters {
  inDatagrams: number;
  inErrors: number;
  rcvbufErrors: number;
}

export function parseUdpSnmp(text: string): UdpHostCounters | null {
  const counters = parseSnmpCounters(text, 'Udp');
  return counters && fromCounters(counters);
}

export async function readUdpHostCounters(): Promise<UdpHostCounters | null> {
  const counters = await readSnmpCounters('Udp');
  return counters && fromCounters(counters);
}

function fromCounters(counters: Map<string, number>): UdpHostCounters {
  return { inDatagrams: counters.get('InDatagrams') ?? 0, inErrors: counters.get('InErrors') ?? 0, rcvbufErrors: counters.get('RcvbufErrors') ?? 0 };
}

export function counterDelta(before: UdpHostCounters | null, after: UdpHostCounters | null): UdpHostCounters | null {
  if (!before || !after) return null;
  return { inDatagrams: after.inDatagrams - before.inDatagrams, inErrors: after.inErrors - before.inErrors, rcvbufErrors: after.rcvbufErrors - before.rcvbufErrors };
}
