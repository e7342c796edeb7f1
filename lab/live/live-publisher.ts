import { liveLine, type LiveEvent } from './live-events.ts';
import { startLiveServer } from './live-server.ts';

/** Where the demo's live events go. */
export interface LivePublisher {
  publish(event: LiveEvent): void;
  close(): Promise<void>;
}

/**
 * serve: a page on 127.0.0.1 (its URL is said before the lab starts); guest: the demo inside the
 * user-mode Linux kernel writes each event to stderr, where its host, which serves the page, reads it;
 * none: --no-ui.
 */
export async function openLive(where: 'serve' | 'guest' | 'none', port: number, say: (line: string) => void): Promise<LivePublisher> {
  if (where === 'none') return { publish: () => {}, close: async () => {} };
  if (where === 'guest') return { publish: (event) => process.stderr.write(`${liveLine(event)}\n`), close: async () => {} };
  const server = await startLiveServer(port);
  say(`live page: ${server.url} (open it in a browser to watch each step; --no-ui turns it off)`);
  return server;
}
