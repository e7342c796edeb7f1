import { readFile } from 'node:fs/promises';

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
  const lines = text.split('\n').filter((line) => line.startsWith('Udp:'));
  if (lines.length < 2) return null;
  const names = lines[0]!.trim().split(/\s+/).slice(1);
  const values = lines[1]!.trim().split(/\s+/).slice(1).map(Number);
  const get = (name: string) => values[names.indexOf(name)] ?? 0;
  return { inDatagrams: get('InDatagrams'), inErrors: get('InErrors'), rcvbufErrors: get('RcvbufErrors') };
}

export async function readUdpHostCounters(): Promise<UdpHostCounters | null> {
  return parseUdpSnmp(await readFile('/proc/net/snmp', 'utf8').catch(() => ''));
}

export function counterDelta(before: UdpHostCounters | null, after: UdpHostCounters | null): UdpHostCounters | null {
  if (!before || !after) return null;
  return { inDatagrams: after.inDatagrams - before.inDatagrams, inErrors: after.inErrors - before.inErrors, rcvbufErrors: after.rcvbufErrors - before.rcvbufErrors };
}
