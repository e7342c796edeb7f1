#!/usr/bin/env node
// `npm run bench:tcp [-- --mib N]`: the TCP file service against the reference, iperf3, on the same link
// (loopback) in one run. iperf3 moves bytes from memory to memory; the lab moves a file from disk to disk
// with SHA-256 on both ends, fsync and an atomic rename, so the ratio is the price of those guarantees.
// Prints a table and the server's peak memory; results are written down in docs/benchmarks.md.
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, open, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { parseArgs } from 'node:util';
import { Logger } from '@lab/runtime';
import { TcpFileClient } from '@lab/client';
import { startService } from '../lab/service-process.ts';
import { iperf3, requireIperf3 } from './bench-support.ts';

const { values } = parseArgs({ options: { mib: { type: 'string', default: '1024' }, runs: { type: 'string', default: '3' } } });
const mib = Number(values.mib);
const runs = Number(values.runs);
if (!(mib > 0) || !(runs > 0)) throw new Error('--mib and --runs must be positive numbers');
const bytes = mib * 1024 * 1024;
const quiet = new Logger({ service: 'bench', level: 'error', stream: new Writable({ write: (_c, _e, done) => done() }) });

async function iperf3Gbits(): Promise<number> {
  const report = (await iperf3(['-n', String(bytes)])) as { end: { sum_received: { bits_per_second: number } } };
  return report.end.sum_received.bits_per_second / 1e9;
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
  const rows: { run: number; iperf3: number; upload: number; download: number }[] = [];
  try {
    for (let i = 1; i <= runs; i++) {
      const iperf3 = await iperf3Gbits();
      const client = await TcpFileClient.connect({ endpoint: { kind: 'tcp', host: '127.0.0.1', port }, log: quiet });
      let started = performance.now();
      await client.upload(source, { name: `bench-${i}.bin`, size: bytes, sha256, offset: 0 });
      const upload = (bytes * 8) / ((performance.now() - started) / 1000) / 1e9;
      started = performance.now();
      const copy = await client.download(`bench-${i}.bin`, join(dir, 'copy.bin'), 0);
      const download = (bytes * 8) / ((performance.now() - started) / 1000) / 1e9;
      await client.close();
      if (copy.sha256 !== sha256) throw new Error('the downloaded copy differs');
      await rm(join(dir, 'data', `bench-${i}.bin`));
      rows.push({ run: i, iperf3, upload, download });
    }
    const status = await readFile(`/proc/${server.child.pid}/status`, 'utf8');
    const peakMiB = Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? 0) / 1024;
    const median = (key: 'iperf3' | 'upload' | 'download') => [...rows.map((r) => r[key])].sort((a, b) => a - b)[Math.floor(rows.length / 2)]!;
    const lines = [
      `TCP, loopback, ${mib} MiB per transfer, ${runs} runs (Gbit/s; the lab: disk to disk, SHA-256 both ends, fsync, rename)`,
      'run  iperf3 (memory)  lab upload  lab download  upload/iperf3  download/iperf3',
      ...rows.map((r) => `${String(r.run).padEnd(3)}  ${r.iperf3.toFixed(2).padStart(15)}  ${r.upload.toFixed(2).padStart(10)}  ${r.download.toFixed(2).padStart(12)}  ${(r.upload / r.iperf3).toFixed(2).padStart(13)}  ${(r.download / r.iperf3).toFixed(2).padStart(15)}`),
      `median  iperf3 ${median('iperf3').toFixed(2)}  upload ${median('upload').toFixed(2)} (${(median('upload') / median('iperf3')).toFixed(2)}x)  download ${median('download').toFixed(2)} (${(median('download') / median('iperf3')).toFixed(2)}x)`,
      `tcp-server peak resident memory: ${peakMiB.toFixed(1)} MiB`,
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
