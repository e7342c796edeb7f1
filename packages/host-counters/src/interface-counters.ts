import { readFile } from 'node:fs/promises';
import { networkInterfaces, type NetworkInterfaceInfo } from 'node:os';
import { sameSubnet } from '@lab/protocol';

/** What an interface has sent (sysfs: /sys/class/net/DEV/statistics, see Documentation/ABI/testing/sysfs-class-net-statistics). */
export interface InterfaceCounters {
  txPackets: number;
  txBytes: number;
}

/**
 * The interface that carries traffic to `remote` (an IPv4 address): the one whose subnet holds it. A lab
 * host has one such interface; null where none does (a routed path, IPv6, a name). Never loopback: its
 * counters hold both ends of every exchange on the host (what one side sends, `lo` sends), and with no
 * wire to fit, one of its packets carries up to 64 KiB of TCP, so per-packet headers cannot be read off it.
 */
export function interfaceTowards(remote: string, interfaces: NodeJS.Dict<NetworkInterfaceInfo[]> = networkInterfaces()): string | null {
  for (const [name, infos] of Object.entries(interfaces)) {
    for (const info of infos ?? []) {
      if (info.family === 'IPv4' && !info.internal && sameSubnet(info.address, info.netmask, remote)) return name;
    }
  }
  return null;
}

export async function readInterfaceCounters(name: string): Promise<InterfaceCounters | null> {
  if (!/^[\w.-]+$/.test(name)) return null;
  try {
    const read = async (counter: string) => Number((await readFile(`/sys/class/net/${name}/statistics/${counter}`, 'utf8')).trim());
    return { txPackets: await read('tx_packets'), txBytes: await read('tx_bytes') };
  } catch {
    return null;
  }
}

/**
 * What the headers cost on the wire, from what an interface sent while one socket sent `payloadBytes`
 * (application bytes, retransmitted ones not counted): every packet carries one set of headers, so
 * (bytes on the wire - payload) / packets is the header bytes per packet, link layer included.
 */
export interface WireOverhead {
  interface: string;
  packets: number;
  wireBytes: number;
  payloadBytes: number;
  /** Payload bytes sent a second time (TCP retransmissions); on the wire, but not header. */
  retransmittedBytes: number;
  headerBytesPerPacket: number;
}

export function wireOverhead(name: string, before: InterfaceCounters, after: InterfaceCounters, payloadBytes: number, retransmittedBytes = 0): WireOverhead | null {
  const packets = after.txPackets - before.txPackets;
  const wireBytes = after.txBytes - before.txBytes;
  if (packets <= 0 || wireBytes < payloadBytes + retransmittedBytes) return null;
  return { interface: name, packets, wireBytes, payloadBytes, retransmittedBytes, headerBytesPerPacket: (wireBytes - payloadBytes - retransmittedBytes) / packets };
}

/** Ethernet II header (no FCS: Linux counts frames without it) and an IPv4 header without options. */
export const ETHERNET_HEADER_BYTES = 14;
export const IPV4_HEADER_BYTES = 20;

/**
 * The measured header bytes per packet, taken apart: "66 B per packet: 14 Ethernet + 20 IPv4 + 32 TCP".
 * Only the last part is inferred (what is left after the two fixed headers), and it is labelled so.
 */
export function describeHeaders(overhead: WireOverhead, transport: 'TCP' | 'UDP'): string {
  const perPacket = Math.round(overhead.headerBytesPerPacket);
  const transportBytes = perPacket - ETHERNET_HEADER_BYTES - IPV4_HEADER_BYTES;
  return `${perPacket} B/packet on ${overhead.interface}: ${ETHERNET_HEADER_BYTES} Ethernet + ${IPV4_HEADER_BYTES} IPv4 + ${transportBytes} ${transport}`;
}
