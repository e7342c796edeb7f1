import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { GUEST_EXCHANGE } from '../uml-kernel.ts';
import { liveLine, type LiveEvent } from './live-events.ts';
import { startLiveServer } from './live-server.ts';

/** Where the demo's live events go. */
export interface LivePublisher {
  publish(event: LiveEvent): void;
  /**
   * Is a page watching now? The client samples its transfers and streams only then: a sweep nobody
   * watches is measured exactly as with --no-ui.
   */
  watched(): boolean;
  close(): Promise<void>;
}

/** In the uml guest: the file its host keeps in the exchange folder while a page watches (see runUmlLab). */
export const WATCHED_FILE = 'watched';

/**
 * serve: a page on 127.0.0.1 (its URL is said before the lab starts); guest: the demo inside the
 * user-mode Linux kernel writes each event to stderr, where its host, which serves the page, reads it;
 * none: --no-ui.
 */
export async function openLive(where: 'serve' | 'guest' | 'none', port: number, say: (line: string) => void): Promise<LivePublisher> {
  if (where === 'none') return { publish: () => {}, watched: () => false, close: async () => {} };
  if (where === 'guest') {
    return { publish: (event) => process.stderr.write(`${liveLine(event)}\n`), watched: () => existsSync(join(GUEST_EXCHANGE, WATCHED_FILE)), close: async () => {} };
  }
  const server = await startLiveServer(port);
  say(`live page: ${server.url} (open it in a browser to watch each step; --no-ui turns it off)`);
  return { publish: (event) => server.publish(event), watched: () => server.watchers > 0, close: () => server.close() };
}
