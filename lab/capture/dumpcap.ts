import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createWriteStream, statSync } from 'node:fs';
import { finished } from 'node:stream/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { LabError } from '@lab/protocol';

/**
 * Bytes kept of each packet: Ethernet (14) + IPv4 (20, no options here) + TCP with every option Linux
 * sends (60 at most) leaves room for the first bytes of a UDP datagram's payload. Headers are what the
 * ladder needs; payloads would make a 10 MiB transfer a 10 MiB file. A 10%-loss step is about 1.5 MB.
 */
export const SNAP_LENGTH = 96;

/** How long dumpcap may take to open the interface and say so. */
const START_TIMEOUT_MS = 5_000;
/**
 * Captured packets reach dumpcap in batches, not one by one (libpcap's ring buffer and read timeout);
 * stopped at once, it loses what has not reached it yet. Seen here (tshark 4.0): a whole 8-packet
 * connection missing when dumpcap was stopped right after it, all of it there when stopped 300 ms after.
 * So it is given this long first.
 */
const LAST_BLOCK_MS = 400;
/** How long it may take to write out what it holds after SIGINT. */
const STOP_TIMEOUT_MS = 5_000;

/** What dumpcap said when it stopped: its own count of packets, and those the kernel or it dropped. */
export interface CaptureEnd {
  file: string;
  bytes: number;
  packets: number | null;
  dropped: number | null;
}

export interface RunningCapture {
  /** Stops the capture (SIGINT: dumpcap finishes the file) and says what it holds; rejects if the file could not be written. */
  stop(): Promise<CaptureEnd>;
}

/**
 * dumpcap's closing lines, on stderr (dumpcap(1), wireshark 4.0):
 *   "Packets captured: 12036"
 *   "Packets received/dropped on interface 'eth0': 12036/0 (pcap:0/dumpcap:0/flushed:0/ps_ifdrop:0) (0.0%)"
 */
export function parseDumpcapSummary(stderr: string): { packets: number | null; dropped: number | null } {
  const captured = /Packets captured: (\d+)/.exec(stderr);
  const received = /Packets received\/dropped on interface '.*?': (\d+)\/(\d+)/.exec(stderr);
  return { packets: captured ? Number(captured[1]) : received ? Number(received[1]) : null, dropped: received ? Number(received[2]) : null };
}

/**
 * Starts `dumpcap -i IFACE` under `prefix` (a command that enters the client's network namespace:
 * `ip netns exec NS`, `nsenter --net=…`), its pcapng going into `file`, and resolves once dumpcap says
 * where it writes ("File: -"), after it opened the interface: the step's first packet, the SYN, is in it.
 */
export async function startDumpcap(prefix: readonly string[], iface: string, file: string): Promise<RunningCapture> {
  // dumpcap writes to its stdout and this process writes the file: dumpcap keeps only the capabilities
  // it captures with (CAP_NET_RAW, CAP_NET_ADMIN), so as root it may not create a file in a folder root
  // does not own (a user's results folder, the uml lab's exchange folder on the host's filesystem).
  const [program, ...args] = [...prefix, 'dumpcap', '-i', iface, '-s', String(SNAP_LENGTH), '-q', '-w', '-'];
  const child = spawn(program!, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  // Settles with the write's error, if any: a file that cannot be written is said when the capture stops.
  const written = finished(child.stdout.pipe(createWriteStream(file))).then(
    () => null,
    (error: Error) => error,
  );
  let stderr = '';
  child.stderr.setEncoding('utf8');
  const exited = once(child, 'close').then(([code]) => code as number | null);
  const started = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new LabError('LAB_ERR_TIMEOUT', `dumpcap did not start capturing on ${iface} within ${START_TIMEOUT_MS / 1000} s: ${stderr.trim()}`)), START_TIMEOUT_MS);
    child.stderr.on('data', (text: string) => {
      stderr += text;
      if (/^File: /m.test(stderr)) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(new LabError('LAB_ERR_CONFIG', `cannot run dumpcap (Debian: apt-get install tshark): ${error.message}`));
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new LabError('LAB_ERR_CONFIG', `dumpcap ended at once (status ${code}): ${stderr.trim().split('\n').at(-1) ?? ''}`));
    });
  });
  try {
    await started;
  } catch (error) {
    child.kill('SIGKILL');
    await written;
    throw error;
  }
  return {
    async stop() {
      await sleep(LAST_BLOCK_MS);
      child.kill('SIGINT');
      const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
      await exited.finally(() => clearTimeout(timer));
      const failed = await written;
      if (failed) throw new LabError('LAB_ERR_STORAGE', `cannot write the capture to ${file}: ${failed.message}`);
      return { file, bytes: statSync(file, { throwIfNoEntry: false })?.size ?? 0, ...parseDumpcapSummary(stderr) };
    },
  };
}
