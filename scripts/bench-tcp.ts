#!/usr/bin/env node
// `npm run bench:tcp [-- --mib N --runs R]`: the TCP file service against what bounds it, in one run, on
// the same link (loopback), file and disk. iperf3 moves bytes from memory to memory: the link's limit.
// The lab moves a file from disk to disk with SHA-256 on both ends, fsync and an atomic rename, so it can
// go no faster than this machine writes that file with fsync (dd bs=1M conv=fsync, to the same disk) or
// one core hashes it (SHA-256, node:crypto, the hash both ends use): the lower of the two is the bound
// each transfer is shown against. Prints a table and the server's peak memory; results are written down
// in docs/benchmarks.md.
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, open, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { parseArgs } from 'node:util';
import { Logger } from '@lab/runtime';
import { TcpFileClient } from '@lab/client';
import { startService } from '../lab/service-process.ts';
import { iperf3, requireIperf3, run } from './bench-support.ts';

const { values } = parseArgs({ options: { mib: { type: 'string', default: '1024' }, runs: { type: 'string', default: '3' } } });
const mib = Number(values.mib);
const runs = Number(values.runs);
if (!(mib > 0) || !(runs > 0)) throw new Error('--mib and --runs must be positive numbers');
const bytes = mib * 1024 * 1024;
const quiet = new Logger({ service: 'bench', level: 'error', stream: new Writable({ write: (_c, _e, done) => done() }) });

interface Row {
  run: number;
  iperf3: number;
  fsyncWrite: number;
  sha256: number;
  upload: number;
  download: number;
}

async function iperf3Gbits(): Promise<number> {
  const report = (await iperf3(['-n', String(bytes)])) as { end: { sum_received: { bits_per_second: number } } };
  return report.end.sum_received.bits_per_second / 1e9;
}

const gbits = (bytesMoved: number, ms: number) => (bytesMoved * 8) / (ms / 1000) / 1e9;

/** dd's rate copying `source` to a new file in `dir` with 1 MiB blocks and an fsync at the end (coreutils dd(1)). */
async function fsyncWriteGbits(source: string, dir: string): Promise<number> {
  const target = join(dir, 'dd.bin');
  const started = performance.now();
  await run('dd', [`if=${source}`, `of=${target}`, 'bs=1M', 'conv=fsync', 'status=none']);
  const ms = performance.now() - started;
  await rm(target);
  return gbits(bytes, ms);
}

/** SHA-256 on one core over `mib` MiB in 1 MiB blocks from memory (node:crypto, OpenSSL's code). */
function sha256Gbits(block: Buffer): number {
  const hash = createHash('sha256');
  const started = performance.now();
  for (let i = 0; i < mib; i++) hash.update(block);
  hash.digest();
  return gbits(bytes, performance.now() - started);
}

async function main(): Promise<void> {
  await requireIperf3();
  const dir = await mkdtemp(join(tmpdir(), 'lab-bench-'));
  const source = join(dir, 'source.bin');
  const handle = await open(source, 'w');
  const block = randomBytes(1024 * 1024);
  for (let i = 0; i < mib; i++) await handle.write(block);
  await handle.close();
  const hash = createHash('sha256');
  for (let i = 0; i < mib; i++) hash.update(block);
  const sha256 = hash.digest('hex');

  const server = await startService('tcp-server', ['--listen', '127.0.0.1:0', '--data-dir', join(dir, 'data')]);
  const port = Number(server.endpoints[0]!.split(':').at(-1));
  const rows: Row[] = [];
  try {
    for (let i = 1; i <= runs; i++) {
      const row: Row = { run: i, iperf3: await iperf3Gbits(), fsyncWrite: await fsyncWriteGbits(source, dir), sha256: sha256Gbits(block), upload: 0, download: 0 };
      const client = await TcpFileClient.connect({ endpoint: { kind: 'tcp', host: '127.0.0.1', port }, log: quiet });
      let started = performance.now();
      await client.upload(source, { name: `bench-${i}.bin`, size: bytes, sha256, offset: 0 });
      row.upload = gbits(bytes, performance.now() - started);
      started = performance.now();
      const copy = await client.download(`bench-${i}.bin`, join(dir, 'copy.bin'), 0);
      row.download = gbits(bytes, performance.now() - started);
      await client.close();
      if (copy.sha256 !== sha256) throw new Error('the downloaded copy differs');
      await rm(join(dir, 'data', `bench-${i}.bin`));
      rows.push(row);
      process.stderr.write(`bench-tcp: run ${i} done\n`);
    }
    const status = await readFile(`/proc/${server.child.pid}/status`, 'utf8');
    const peakMiB = Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? 0) / 1024;
    const bound = (r: Row) => Math.min(r.fsyncWrite, r.sha256);
    const median = (of: (r: Row) => number) => rows.map(of).sort((a, b) => a - b)[Math.floor(rows.length / 2)]!;
    const cells = (values: number[], widths: number[]) => values.map((v, k) => v.toFixed(2).padStart(widths[k]!)).join('  ');
    const widths = [6, 11, 7, 5, 6, 8, 12, 14, 13, 15];
    const line = (label: string, of: (f: (r: Row) => number) => number) =>
      `${label.padEnd(6)}  ${cells(
        [of((r) => r.iperf3), of((r) => r.fsyncWrite), of((r) => r.sha256), of(bound), of((r) => r.upload), of((r) => r.download), of((r) => r.upload / bound(r)), of((r) => r.download / bound(r)), of((r) => r.upload / r.iperf3), of((r) => r.download / r.iperf3)],
        widths,
      )}`;
    const lines = [
      `TCP, loopback, ${mib} MiB per transfer, ${runs} runs (Gbit/s; the lab: disk to disk, SHA-256 both ends, fsync, rename)`,
      'limits, measured in each run on the same file and disk: iperf3 (memory to memory), dd bs=1M conv=fsync, SHA-256 on one core; bound = the lower of the last two',
      'run     iperf3  fsync write  SHA-256  bound  upload  download  upload/bound  download/bound  upload/iperf3  download/iperf3',
      ...rows.map((r) => line(String(r.run), (of) => of(r))),
      line('median', median),
      `tcp-server peak resident memory: ${peakMiB.toFixed(1)} MiB (over ${runs} uploads and downloads of ${mib} MiB)`,
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
  } finally {
    await server.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`bench-tcp: ${(error as Error).message}\n`);
  process.exit(1);
});
