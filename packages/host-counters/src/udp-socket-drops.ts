import { readFile } from 'node:fs/promises';

/**
 * Datagrams the kernel dropped at one UDP socket, from /proc/net/udp's last column ("drops": its receive
 * buffer was full, or a filter refused them; proc(5), udp(7)). The host-wide RcvbufErrors says that some
 * socket of this host was too slow; this says which: the relay's, or a receiver's.
 */
export function parseUdpSocketDrops(text: string, port: number): number | null {
  const wanted = port.toString(16).toUpperCase().padStart(4, '0');
  let drops: number | null = null;
  for (const line of text.split('\n').slice(1)) {
    const fields = line.trim().split(/\s+/);
    // sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode ref pointer drops
    if (fields.length < 13 || fields[1]!.split(':')[1] !== wanted) continue;
    drops = (drops ?? 0) + Number(fields[12]);
  }
  return drops;
}

/** The drops of every IPv4 UDP socket bound to `port` in this network namespace; null when none is. */
export async function readUdpSocketDrops(port: number): Promise<number | null> {
  return parseUdpSocketDrops(await readFile('/proc/net/udp', 'utf8').catch(() => ''), port);
}
