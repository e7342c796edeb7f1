import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LabError, type Endpoint } from '@lab/protocol';
import type { Logger } from '@lab/runtime';
import { writeChunk } from '@lab/stream-io';
import { interfaceTowards, readInterfaceCounters, readTcpHostCounters, tcpConnectionInfo, tcpLowestRtt, tcpStreamProgress, wireOverhead, type TcpConnectionInfo, type TcpStreamProgress, type WireOverhead } from '@lab/host-counters';
import type { TcpExperimentResult } from '@lab/results';
import { formatBytes } from './progress.ts';
import { TcpFileClient } from './tcp-client.ts';
import type { LiveReporter } from './live-reporter.ts';
import { TransferSampler } from './tcp-sampler.ts';

export interface TcpExperimentOptions {
  endpoint: Endpoint;
  fileBytes: number;
  log: Logger;
  connectTimeoutMs: number;
  /** Cut the transfers after this many ms (0: never) and say so: at high loss TCP can take minutes. */
  deadlineMs: number;
  /** Tells the live page how each transfer goes (`client experiment --live-ms`); absent or off: nothing is told. */
  live?: LiveReporter;
}

/** Writes `bytes` of random data to `path` in 1 MiB blocks and returns their SHA-256. */
async function writeRandomFile(path: string, bytes: number): Promise<string> {
  const hash = createHash('sha256');
  const out = createWriteStream(path);
  for (let left = bytes; left > 0; ) {
    const block = randomBytes(Math.min(left, 1 << 20));
    left -= block.length;
    hash.update(block);
    await writeChunk(out, block);
  }
  out.end();
  await once(out, 'close');
  return hash.digest('hex');
}

const mbitPerS = (bytes: number, ms: number) => (ms > 0 ? (bytes * 8) / (ms * 1000) : 0);

/**
 * How far a transfer cut at the deadline came, from the connection's TCP_INFO: for the upload, what the
 * server had acknowledged; for the download, what had arrived in order. Both count from the connect on,
 * so they include the protocol's few header bytes. Empty where the kernel could not be asked.
 */
export function howFar(phase: 'upload' | 'download', info: TcpStreamProgress | null, fileBytes: number, seconds: number): string {
  if (!info) return '';
  if (phase === 'upload') {
    const acked = Math.min(info.bytesAcked, fileBytes);
    return `: ${formatBytes(acked)} of ${formatBytes(fileBytes)} acknowledged by then (${((acked * 8) / seconds / 1e6).toPrecision(2)} Mbit/s), ${formatBytes(info.bytesRetransmitted)} sent again`;
  }
  return `: ${formatBytes(Math.min(info.bytesReceived, fileBytes))} of ${formatBytes(fileBytes)} of the download received by then`;
}

/** Uploads a random file and downloads it again over one connection; TCP must give back every byte. */
export async function runTcpExperiment(options: TcpExperimentOptions): Promise<TcpExperimentResult> {
  const { log } = options;
  const dir = await mkdtemp(join(tmpdir(), 'lab-client-'));
  try {
    const name = `experiment-${Date.now()}-${randomBytes(4).toString('hex')}.bin`;
    const source = join(dir, name);
    const copy = join(dir, `${name}.downloaded`);
    const sha256 = await writeRandomFile(source, options.fileBytes);
    log.info('tcp-file', { msg: `generated ${options.fileBytes} random bytes, sha256 ${sha256.slice(0, 16)}…`, name, bytes: options.fileBytes, sha256 });

    const countersBefore = await readTcpHostCounters();
    const client = await TcpFileClient.connect({ endpoint: options.endpoint, log, connectTimeoutMs: options.connectTimeoutMs });
    const idleRttMs = await tcpLowestRtt(client.localPort);
    let phase: 'upload' | 'download' = 'upload';
    let cut = false;
    // What the kernel had got through when the time ran out: a cut transfer still says how far it came.
    let atCut: TcpStreamProgress | null = null;
    const timer =
      options.deadlineMs > 0
        ? setTimeout(async () => {
            cut = true;
            atCut = await tcpStreamProgress(client.localPort);
            client.abort();
          }, options.deadlineMs)
        : undefined;
    const withinDeadline = <T>(transfer: Promise<T>): Promise<T> =>
      transfer.catch((error: unknown) => {
        if (!cut) throw error;
        const seconds = options.deadlineMs / 1000;
        throw new LabError('LAB_ERR_DEADLINE', `the ${phase} did not complete within ${seconds} s (the time limit of the TCP part)${howFar(phase, atCut, options.fileBytes, seconds)}`, { cause: error });
      });
    try {
      const iface = interfaceTowards(client.remoteAddress);
      const wireBefore = iface ? await readInterfaceCounters(iface) : null;
      const writtenBefore = client.bytesWritten;
      const uploadSampler = await TransferSampler.start(options.live, client.localPort, 'upload', options.fileBytes);
      let started = performance.now();
      const stored = await withinDeadline(uploadSampler.watch(client.upload(source, { name, size: options.fileBytes, sha256, offset: 0 })));
      const uploadMs = performance.now() - started;
      await uploadSampler.finish();
      const connection = await tcpConnectionInfo(client.localPort);
      log.info('tcp-uploaded', { name, bytes: stored.size, ms: Math.round(uploadMs), rttMs: connection?.rttMs, mss: connection?.mss });

      phase = 'download';
      const downloadSampler = await TransferSampler.start(options.live, client.localPort, 'download', options.fileBytes);
      started = performance.now();
      const downloaded = await withinDeadline(downloadSampler.watch(client.download(name, copy, 0)));
      const downloadMs = performance.now() - started;
      clearTimeout(timer);
      await downloadSampler.finish();
      const wireAfter = iface ? await readInterfaceCounters(iface) : null;
      // Counted from the connect on: no payload had been sent, so none retransmitted, before the window.
      const retransmitted = (await tcpConnectionInfo(client.localPort))?.bytesRetransmitted ?? 0;
      const wire = iface && wireBefore && wireAfter ? wireOverhead(iface, wireBefore, wireAfter, client.bytesWritten - writtenBefore, retransmitted) : null;
      log.info('tcp-downloaded', { name, bytes: downloaded.received, ms: Math.round(downloadMs) });
      const countersAfter = await readTcpHostCounters();
      const segments =
        countersBefore && countersAfter
          ? { out: countersAfter.outSegs - countersBefore.outSegs, retransmitted: countersAfter.retransSegs - countersBefore.retransSegs }
          : null;

      return {
        name,
        bytes: options.fileBytes,
        sha256,
        uploadMs,
        uploadMbitPerS: mbitPerS(options.fileBytes, uploadMs),
        stored: { size: stored.size, sha256: stored.sha256 },
        downloadMs,
        downloadMbitPerS: mbitPerS(downloaded.received, downloadMs),
        downloaded: { size: downloaded.received, sha256: downloaded.sha256, declaredSha256: downloaded.declaredSha256 },
        identical:
          stored.sha256 === sha256 && downloaded.sha256 === sha256 && downloaded.declaredSha256 === sha256 && downloaded.received === options.fileBytes,
        localPort: client.localPort,
        segments,
        connection,
        idleRttMs,
        wire,
      };
    } finally {
      clearTimeout(timer);
      await client.close();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
