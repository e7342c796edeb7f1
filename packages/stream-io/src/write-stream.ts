import { once } from 'node:events';
import type { Writable } from 'node:stream';

/**
 * Writes one chunk and waits while the stream's buffer is full (backpressure). A stream that already
 * failed (disk full, permissions, a reset socket) rejects with its error at once: it would never emit
 * 'drain' again, and waiting for it would hang. Also rejects if the stream closes while we wait.
 */
export async function writeChunk(stream: Writable, chunk: Buffer): Promise<void> {
  if (stream.errored) throw stream.errored;
  if (stream.destroyed) throw new Error('write to a closed stream');
  if (stream.write(chunk)) return;
  const ac = new AbortController();
  try {
    await Promise.race([
      once(stream, 'drain', { signal: ac.signal }),
      once(stream, 'close', { signal: ac.signal }).then(() => {
        throw stream.errored ?? new Error('stream closed while writing');
      }),
    ]);
  } finally {
    ac.abort();
  }
}
