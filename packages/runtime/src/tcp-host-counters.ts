import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';

/**
 * TCP segment counters of this network namespace (/proc/net/snmp, "Tcp:" lines; see tcp(7)):
 * RetransSegs counts segments the kernel sent again, the price TCP pays for reliability under loss.
 */
export interface TcpHostCounters {
  outSegs: number;
  retransSegs: number;
}

export function parseTcpSnmp(text: string): TcpHostCounters | null {
  const lines = text.split('\n').filter((line) => line.startsWith('Tcp:'));
  if (lines.length < 2) return null;
  const names = lines[0]!.trim().split(/\s+/).slice(1);
  const values = lines[1]!.trim().split(/\s+/).slice(1).map(Number);
  const get = (name: string) => values[names.indexOf(name)] ?? 0;
  return { outSegs: get('OutSegs'), retransSegs: get('RetransSegs') };
}

export async function readTcpHostCounters(): Promise<TcpHostCounters | null> {
  return parseTcpSnmp(await readFile('/proc/net/snmp', 'utf8').catch(() => ''));
}

/** What `ss -ti` tells of one connection: smoothed RTT and its variation in ms, and the MSS. */
export interface TcpConnectionInfo {
  rttMs: number;
  rttVarMs: number;
  mss: number;
}

/** Parses the info line of `ss -tin` ("… mss:1448 … rtt:0.123/0.05 …"). */
export function parseSsInfo(text: string): TcpConnectionInfo | null {
  const rtt = /\brtt:([\d.]+)\/([\d.]+)/.exec(text);
  const mss = /\bmss:(\d+)/.exec(text);
  if (!rtt || !mss) return null;
  return { rttMs: Number(rtt[1]), rttVarMs: Number(rtt[2]), mss: Number(mss[1]) };
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
