import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { LabError } from '@lab/protocol';
import type { LiveEvent } from './live-events.ts';

/** The page and its script, read once: the page is plain HTML and JavaScript, with no build step. */
const assets = {
  '/': { type: 'text/html; charset=utf-8', body: readFileSync(new URL('./live-page.html', import.meta.url)) },
  '/live-page.js': { type: 'text/javascript; charset=utf-8', body: readFileSync(new URL('./live-page.js', import.meta.url)) },
} as const;

/**
 * Only this page's own script runs; styles may be inline (the report's are); nothing is fetched from
 * anywhere else (the lab is offline, and the page has no business elsewhere).
 */
const CONTENT_SECURITY_POLICY = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; frame-src 'self'; frame-ancestors 'none'";

/** At most this many pages watch at once; more are refused (503), so a runaway tab cannot load the demo. */
const MAX_WATCHERS = 16;
/** A page that reads so slowly that this much waits for it is dropped: it would hold the events in memory. */
const MAX_BACKLOG_BYTES = 4 * 1024 * 1024;
/** A comment line this often keeps proxies and the browser from taking a quiet step for a dead stream. */
const KEEPALIVE_MS = 15_000;
/** How long closing waits for what is still on its way to a page (the report), before it cuts it. */
const CLOSE_GRACE_MS = 2000;

export interface LiveServer {
  /** http://127.0.0.1:PORT/ */
  url: string;
  /** How many pages are watching now. */
  readonly watchers: number;
  publish(event: LiveEvent): void;
  close(): Promise<void>;
}

/**
 * Serves the live page on 127.0.0.1 (never another interface: the page shows the lab's addresses and
 * results to whoever reaches it) and streams the sweep's events to it as server-sent events (the HTML
 * standard's EventSource). A page opened mid-sweep is sent every event so far first, so it shows the
 * earlier steps too; a reconnecting page (Last-Event-ID) gets only what it missed. A step's samples are
 * kept only while it runs: once it has ended, its verdict says what a late page needs, and the history
 * stays small however long the sweep.
 */
export async function startLiveServer(port = 0): Promise<LiveServer> {
  let history: { id: number; event: LiveEvent; data: string }[] = [];
  let nextId = 0;
  const watchers = new Set<ServerResponse>();
  let origin = '';

  const send = (response: ServerResponse, entry: { id: number; data: string }) => {
    if (response.writableLength > MAX_BACKLOG_BYTES) return response.destroy();
    response.write(`id: ${entry.id}\ndata: ${entry.data}\n\n`);
  };

  const watch = (request: IncomingMessage, response: ServerResponse) => {
    if (watchers.size >= MAX_WATCHERS) return refuse(response, 503, 'too many pages are watching this sweep');
    response.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' });
    const last = Number(request.headers['last-event-id']);
    const from = Number.isInteger(last) && last >= 0 ? last + 1 : 0;
    for (const entry of history) if (entry.id >= from) send(response, entry);
    watchers.add(response);
    response.on('close', () => watchers.delete(response));
  };

  const server = createServer((request, response) => {
    // A page served on 127.0.0.1 can still be reached by a web site through DNS rebinding: the Host it
    // names is the site's, not ours, and is refused.
    const host = request.headers.host ?? '';
    if (host !== origin && host !== origin.replace('127.0.0.1', 'localhost')) return refuse(response, 421, 'this page answers to 127.0.0.1 and localhost only');
    if (request.method !== 'GET' && request.method !== 'HEAD') return refuse(response, 405, 'only GET');
    const path = (request.url ?? '/').split('?')[0]!;
    if (path === '/events') return watch(request, response);
    const asset = assets[path as keyof typeof assets];
    if (!asset) return refuse(response, 404, 'no such page');
    response.writeHead(200, { 'content-type': asset.type, 'content-security-policy': CONTENT_SECURITY_POLICY, 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' });
    response.end(request.method === 'HEAD' ? undefined : asset.body);
  });
  server.on('clientError', (_error, socket) => socket.destroy());
  server.listen(port, '127.0.0.1');
  // once() rejects with the server's 'error' (a port in use): that is a bad --ui-port, said as such.
  await once(server, 'listening').catch((error: unknown) => {
    throw new LabError('LAB_ERR_CONFIG', `the live page cannot listen on 127.0.0.1:${port} (--ui-port): ${(error as Error).message}`);
  });
  origin = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  const keepalive = setInterval(() => {
    for (const watcher of watchers) watcher.write(': still here\n\n');
  }, KEEPALIVE_MS);
  keepalive.unref();

  return {
    url: `http://${origin}/`,
    get watchers() {
      return watchers.size;
    },
    publish(event) {
      if (event.kind === 'step-end') history = history.filter(({ event: kept }) => !(kept.kind === 'sample' && kept.index === event.index));
      const entry = { id: nextId++, event, data: JSON.stringify(event) };
      history.push(entry);
      for (const watcher of watchers) send(watcher, entry);
    },
    async close() {
      clearInterval(keepalive);
      // The last events (the report) may still be on their way to a slow page: let them arrive.
      const flushed = [...watchers].map((watcher) => new Promise<void>((resolve) => watcher.end(resolve)));
      await Promise.race([Promise.all(flushed), new Promise((resolve) => setTimeout(resolve, CLOSE_GRACE_MS).unref())]);
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function refuse(response: ServerResponse, status: number, message: string): void {
  response.writeHead(status, { 'content-type': 'text/plain; charset=utf-8' });
  response.end(`${message}\n`);
}
