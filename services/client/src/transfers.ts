import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { rename, rm, stat } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { LabError, type Endpoint, type ErrorCode } from '@lab/protocol';
import type { Logger } from '@lab/runtime';
import { asLabError } from '@lab/stream-io';
import { Progress, type ProgressOptions } from './progress.ts';
import { localFileError, TcpFileClient } from './tcp-client.ts';

export interface TransferContext {
  endpoint: Endpoint;
  log: Logger;
  connectTimeoutMs: number;
  /** Attempts after the first when the connection drops; each resumes where the last one stopped. */
  retries: number;
  limitRate: number;
  progress: Pick<ProgressOptions, 'mode' | 'stream'>;
}

export interface SendResult {
  name: string;
  size: number;
  sha256: string;
  /** The server already had this exact content under this name: nothing was sent. */
  alreadyStored: boolean;
  /** Where each attempt started; more than one entry means the upload was resumed. */
  offsets: number[];
  /** File bytes that crossed the network, over all attempts of this run. */
  sentBytes: number;
}

export interface GetResult {
  name: string;
  path: string;
  size: number;
  sha256: string;
  offsets: number[];
  receivedBytes: number;
}

/**
 * Failures after which trying again can succeed: the connection dropped, the server is restarting, or
 * our previous attempt's upload is still being wound up on the server (BUSY) or moved on (OFFSET).
 */
const retryable = new Set<ErrorCode>([
  'LAB_ERR_CONNECT',
  'LAB_ERR_CONNECTION',
  'LAB_ERR_TIMEOUT',
  'LAB_ERR_TRUNCATED',
  'LAB_ERR_BUSY',
  'LAB_ERR_SHUTTING_DOWN',
  'LAB_ERR_OFFSET_MISMATCH',
  'LAB_ERR_TOO_MANY_CONNECTIONS',
]);

/** Runs `attempt` until it succeeds, a failure is final, or the retries are used up (backoff 0.5 s doubling to 8 s). */
async function withRetries<T>(ctx: TransferContext, what: string, attempt: (n: number) => Promise<T>): Promise<T> {
  for (let n = 0; ; n++) {
    try {
      return await attempt(n);
    } catch (error) {
      const labError = asLabError(error);
      if (!retryable.has(labError.code) || n >= ctx.retries) throw labError;
      const delayMs = Math.min(500 * 2 ** n, 8000);
      ctx.log.warn('retry', { msg: `${what}: ${labError.code} ${labError.message}; retry ${n + 1} of ${ctx.retries} in ${delayMs} ms`, code: labError.code });
      await sleep(delayMs);
    }
  }
}

async function sha256Of(path: string): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(path), hash).catch((error: unknown) => Promise.reject(localFileError(error, path)));
  return hash.digest('hex');
}

async function connected<T>(ctx: TransferContext, work: (client: TcpFileClient) => Promise<T>): Promise<T> {
  const client = await TcpFileClient.connect({ endpoint: ctx.endpoint, log: ctx.log, connectTimeoutMs: ctx.connectTimeoutMs });
  try {
    return await work(client);
  } finally {
    await client.close();
  }
}

/**
 * Uploads a local file as `name`. Before each attempt it asks the server (`stat`) how much of this
 * exact content it already holds, and sends only the rest; the server's SHA-256 check covers the whole
 * file, so a resumed upload is as trustworthy as one in a single go.
 */
export async function sendFile(ctx: TransferContext, path: string, name: string): Promise<SendResult> {
  const info = await stat(path).catch((error: unknown) => {
    throw new LabError('LAB_ERR_CONFIG', `cannot read ${path}: ${(error as Error).message}`);
  });
  if (!info.isFile()) throw new LabError('LAB_ERR_CONFIG', `${path} is not a regular file`);
  const size = info.size;
  ctx.log.info('hashing', { msg: `hashing ${path} (${size} bytes)`, path, size });
  const sha256 = await sha256Of(path);
  const offsets: number[] = [];
  let sentBytes = 0;
  return withRetries(ctx, `send ${name}`, () =>
    connected(ctx, async (client) => {
      const remote = await client.stat(name);
      if (remote.stored?.sha256 === sha256 && remote.stored.size === size) {
        return { name, size, sha256, alreadyStored: true, offsets, sentBytes };
      }
      const kept = remote.partials.find((p) => p.sha256 === sha256)?.received ?? 0;
      const offset = kept <= size ? kept : 0;
      offsets.push(offset);
      const progress = new Progress({ label: `send ${name}`, total: size, start: offset, ...ctx.progress });
      let position = offset;
      try {
        const stored = await client.upload(path, { name, size, sha256, offset }, {
          limitRate: ctx.limitRate,
          onProgress: (p) => {
            sentBytes += p - position;
            position = p;
            progress.update(p);
          },
        });
        progress.finish(size);
        return { name: stored.name, size: stored.size, sha256: stored.sha256, alreadyStored: false, offsets, sentBytes };
      } catch (error) {
        progress.finish();
        throw error;
      }
    }),
  );
}

/**
 * Downloads `name` to `path`. Bytes go to `PATH.<first 16 hex of the SHA-256>.part` beside it, which a
 * later attempt (or a later run of the same command) continues; the part is renamed to `path` only when
 * the whole file's SHA-256 matches, so `path` is never a partial or corrupted copy.
 */
export async function getFile(ctx: TransferContext, name: string, path: string): Promise<GetResult> {
  const offsets: number[] = [];
  let receivedBytes = 0;
  return withRetries(ctx, `get ${name}`, () =>
    connected(ctx, async (client) => {
      const remote = await client.stat(name);
      if (!remote.stored) throw new LabError('LAB_ERR_NOT_FOUND', `the server has no file named ${name}`);
      const { size, sha256 } = remote.stored;
      const part = `${path}.${sha256.slice(0, 16)}.part`;
      const kept = (await stat(part).catch(() => null))?.size ?? 0;
      // A kept part that fails the final check is dropped and fetched once more from the start.
      for (let offset = kept <= size ? kept : 0; ; offset = 0) {
        offsets.push(offset);
        const progress = new Progress({ label: `get ${name}`, total: size, start: offset, ...ctx.progress });
        let result;
        try {
          result = await client.download(name, part, offset, { limitRate: ctx.limitRate, onProgress: (p) => progress.update(p) });
        } finally {
          progress.finish();
        }
        receivedBytes += result.received;
        if (result.declaredSha256 !== sha256) {
          // Replaced on the server between stat and get: the part mixes two versions. Start over.
          await rm(part, { force: true });
          throw new LabError('LAB_ERR_OFFSET_MISMATCH', `${name} changed on the server during the download`);
        }
        if (result.sha256 !== sha256) {
          await rm(part, { force: true });
          if (offset > 0) {
            ctx.log.warn('part-mismatch', { msg: `the ${offset} bytes kept in ${part} did not match; fetching ${name} again from the start` });
            continue;
          }
          throw new LabError('LAB_ERR_HASH_MISMATCH', `the downloaded bytes have SHA-256 ${result.sha256}, the server's file ${sha256}`);
        }
        await rename(part, path).catch((error: unknown) => Promise.reject(localFileError(error, path)));
        return { name, path, size, sha256, offsets, receivedBytes };
      }
    }),
  );
}
