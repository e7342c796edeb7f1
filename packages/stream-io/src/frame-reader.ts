import type { Readable } from 'node:stream';
import type { FrameDecoder, FrameEvent } from '@lab/protocol';

export type ReadEvent<M> = Exclude<FrameEvent<M>, { kind: 'error' }>;

/**
 * Pulls chunks from a stream (a socket) only as fast as the caller consumes the events, so a slow disk
 * write of a body slows the sender through TCP's own flow control instead of filling memory.
 * A decoding error or a stream that ends inside a frame is thrown as its LabError.
 * Leaving the loop early does not destroy the socket (destroyOnReturn: false): the caller still owns
 * it and must be able to write its error reply before closing. `afterChunk` runs once a chunk's
 * events are consumed (the server arms its header timeout there).
 */
export async function* readFrames<M>(source: Readable, decoder: FrameDecoder<M>, afterChunk?: () => void): AsyncGenerator<ReadEvent<M>> {
  for await (const chunk of source.iterator({ destroyOnReturn: false }) as AsyncIterable<Buffer>) {
    for (const event of decoder.push(chunk)) {
      if (event.kind === 'error') throw event.error;
      yield event;
    }
    afterChunk?.();
  }
  const truncated = decoder.end();
  if (truncated) throw truncated;
}
