import { readFile } from 'node:fs/promises';

/**
 * One protocol's counters from /proc/net/snmp: a line of names ("Udp: InDatagrams NoPorts …") followed
 * by a line of values with the same prefix. Counters are per network namespace.
 */
export function parseSnmpCounters(text: string, protocol: 'Tcp' | 'Udp'): Map<string, number> | null {
  const lines = text.split('\n').filter((line) => line.startsWith(`${protocol}:`));
  if (lines.length < 2) return null;
  const names = lines[0]!.trim().split(/\s+/).slice(1);
  const values = lines[1]!.trim().split(/\s+/).slice(1).map(Number);
  return new Map(names.map((name, i) => [name, values[i] ?? 0]));
}

export async function readSnmpCounters(protocol: 'Tcp' | 'Udp'): Promise<Map<string, number> | null> {
  return parseSnmpCounters(await readFile('/proc/net/snmp', 'utf8').catch(() => ''), protocol);
}
