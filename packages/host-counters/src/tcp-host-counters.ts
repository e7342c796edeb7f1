import { runCommand } from '@lab/runtime';
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
 * The lowest RTT the kernel has measured on the connection (tcpi_min_rtt, Linux 4.6+: ss's `minrtt`),
 * else its smoothed RTT. A stall of the host itself (a busy or user-mode kernel) only ever adds to a
 * sample: the lowest one is the path's. The smoothed RTT after a handshake is mostly the handshake's
 * one sample (RFC 6298 §2.2 starts SRTT there and moves it 1/8 per sample after).
 */
export function parseSsLowestRtt(text: string): number | null {
  const lowest = /\bminrtt:([\d.]+)/.exec(text);
  if (lowest) return Number(lowest[1]);
  return parseSsInfo(text)?.rttMs ?? null;
}

/** How far a connection's two byte streams have come (RFC 4898's counters, in TCP_INFO since Linux 4.1 and 4.6). */
export interface TcpStreamProgress {
  /** Bytes of this end's stream the peer has acknowledged (tcpi_bytes_acked). */
  bytesAcked: number;
  /** Bytes of the peer's stream this end has received in order (tcpi_bytes_received). */
  bytesReceived: number;
  /** Payload bytes this end has sent again (tcpi_bytes_retrans). */
  bytesRetransmitted: number;
}

/** Parses the byte counters of an `ss -tin` info line; ss prints each only once it is above 0. */
export function parseSsProgress(text: string): TcpStreamProgress {
  const counter = (name: string) => Number(new RegExp(`\\b${name}:(\\d+)`).exec(text)?.[1] ?? 0);
  return { bytesAcked: counter('bytes_acked'), bytesReceived: counter('bytes_received'), bytesRetransmitted: counter('bytes_retrans') };
}

/** The `ss -tin` info of the established connection from `localPort` (ss(8), from iproute2); null where ss is missing or the connection is gone. */
async function ssInfo(localPort: number): Promise<string | null> {
  const run = await runCommand(['ss', '-tinH', 'state', 'established', `( sport = :${localPort} )`], { timeoutMs: 2000 });
  return run.code !== 0 || run.stdout.trim() === '' ? null : run.stdout;
}

/** Asks the kernel about the connection from `localPort`, read by `parse`; null where it cannot be read. */
const askSs =
  <T>(parse: (text: string) => T | null) =>
  async (localPort: number): Promise<T | null> => {
    const info = await ssInfo(localPort);
    return info === null ? null : parse(info);
  };

/** Asks the kernel for the TCP_INFO of the connection from `localPort`; null where it cannot be read. */
export const tcpConnectionInfo = askSs(parseSsInfo);

/** Asks the kernel for the lowest RTT of the connection from `localPort` (see parseSsLowestRtt); null where it cannot be read. */
export const tcpLowestRtt = askSs(parseSsLowestRtt);

/**
 * One look at a connection during a transfer, for the live page: how far each byte stream came, the
 * congestion window (segments), the smoothed RTT, and the segments sent again so far (tcpi_total_retrans:
 * ss's "retrans:NOW/TOTAL"), whose rise marks a loss the sender repaired.
 */
export interface TcpSample extends TcpStreamProgress {
  cwnd: number | null;
  rttMs: number | null;
  retransmittedSegments: number;
}

/** Parses an `ss -tin` info line into a TcpSample; ss leaves a counter out while it is 0. */
export function parseSsSample(text: string): TcpSample {
  const cwnd = /\bcwnd:(\d+)/.exec(text);
  const rtt = /\brtt:([\d.]+)\//.exec(text);
  const retrans = /\bretrans:\d+\/(\d+)/.exec(text);
  return { ...parseSsProgress(text), cwnd: cwnd ? Number(cwnd[1]) : null, rttMs: rtt ? Number(rtt[1]) : null, retransmittedSegments: Number(retrans?.[1] ?? 0) };
}

/** Asks the kernel for a TcpSample of the connection from `localPort`; null where it cannot be read. */
export const tcpSample = askSs(parseSsSample);

/** Asks the kernel how far the connection from `localPort` has come; null where it cannot be read. */
export const tcpStreamProgress = askSs(parseSsProgress);
