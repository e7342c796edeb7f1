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
  // Plain listeners, removed by hand: an AbortSignal per wait cost a DOMException each time it was
  // aborted, thousands per transfer.
  await new Promise<void>((resolve, reject) => {
    const settle = () => {
      stream.off('drain', onDrain);
      stream.off('error', onError);
      stream.off('close', onClose);
    };
    const onDrain = () => {
      settle();
      resolve();
    };
    // Listening for 'error' also keeps a stream that has no listener of its own from taking the
    // process down with it.
    const onError = (error: Error) => {
      settle();
      reject(error);
    };
    const onClose = () => {
      settle();
      reject(stream.errored ?? new Error('stream closed while writing'));
    };
    stream.on('drain', onDrain);
    stream.on('error', onError);
    stream.on('close', onClose);
  });
}
