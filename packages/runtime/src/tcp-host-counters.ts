import { execFile } from 'node:child_process';
import { parseSnmpCounters, readSnmpCounters } from './proc-net-snmp.ts';

/**
 * TCP segment counters of this network namespace (/proc/net/snmp, "Tcp:" lines; see tcp(7)):
 * RetransSegs counts segments the kernel sent again, the price TCP pays for reliability under loss.
 */
export interface TcpHostCounters {
  outSegs: number;
  retransSegs: number;
}

export function parseTcpSnmp(text: string): TcpHostCounters | null {
  const counters = parseSnmpCounters(text, 'Tcp');
  return counters && fromCounters(counters);
}

export async function readTcpHostCounters(): Promise<TcpHostCounters | null> {
  const counters = await readSnmpCounters('Tcp');
  return counters && fromCounters(counters);
}

function fromCounters(counters: Map<string, number>): TcpHostCounters {
  return { outSegs: counters.get('OutSegs') ?? 0, retransSegs: counters.get('RetransSegs') ?? 0 };
}

/**
 * What `ss -ti` tells of one connection: smoothed RTT and its variation, the retransmission timeout
 * (RFC 6298; Linux never goes below 200 ms), all in ms, and the MSS.
 */
export interface TcpConnectionInfo {
  rttMs: number;
  rttVarMs: number;
  rtoMs: number;
  mss: number;
  /** Payload bytes this end has sent again so far (tcpi_bytes_retrans; ss leaves it out while 0). */
  bytesRetransmitted: number;
}

/** Parses the info line of `ss -tin` ("… mss:1448 … rtt:0.123/0.05 …"). */
export function parseSsInfo(text: string): TcpConnectionInfo | null {
  const rtt = /\brtt:([\d.]+)\/([\d.]+)/.exec(text);
  const mss = /\bmss:(\d+)/.exec(text);
  const rto = /\brto:([\d.]+)/.exec(text);
  if (!rtt || !mss || !rto) return null;
  const retransmitted = /\bbytes_retrans:(\d+)/.exec(text);
  return { rttMs: Number(rtt[1]), rttVarMs: Number(rtt[2]), rtoMs: Number(rto[1]), mss: Number(mss[1]), bytesRetransmitted: Number(retransmitted?.[1] ?? 0) };
}

/**
 * Asks the kernel (ss(8), from iproute2) for the TCP_INFO of the connection from `localPort`; null where
 * ss is missing or the connection is gone.
 */
export function tcpConnectionInfo(localPort: number): Promise<TcpConnectionInfo | null> {
  return new Promise((resolve) => {
    execFile('ss', ['-tinH', 'state', 'established', `( sport = :${localPort} )`], { timeout: 2000 }, (error, stdout) => {
      resolve(error ? null : parseSsInfo(stdout));
    });
  });
}
