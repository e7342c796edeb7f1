import { readFile, rm, stat } from 'node:fs/promises';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { encodeFrameHeader, formatEndpoint, LabError, type Endpoint, type ServerMessage } from '@lab/protocol';
import type { Logger } from '@lab/runtime';
import { ChatRooms } from './chat-rooms.ts';
import { addressKey, ConnectionShares } from './connection-shares.ts';
import { lingeringClose, serveConnection, type ConnectionLimits, type ConnectionState } from './connection.ts';
import type { FileStore } from './file-store.ts';

export interface TcpFileServerOptions {
  store: FileStore;
  log: Logger;
  limits: ConnectionLimits;
  /** A connection with no traffic at all for this long is closed (socket.setTimeout). */
  idleTimeoutMs: number;
  /** Connections beyond this many are answered LAB_ERR_TOO_MANY_CONNECTIONS and closed. */
  maxConnections: number;
  /** The same, for the connections of one client address (so that one cannot take every slot). */
  maxConnectionsPerAddress?: number;
  serverName?: string;
}

/** What one listener is bound to, for the readiness line. */
export interface BoundListener {
  endpoint: Endpoint;
  backlog: number;
}

type State = 'idle' | 'listening' | 'closing' | 'closed';

/**
 * Accepts connections on one or more listeners (IPv4, IPv6, Unix socket) and hands each to
 * `serveConnection`; it owns the listeners, the open sockets and the graceful stop.
 */
export class TcpFileServer {
  readonly #options: TcpFileServerOptions;
  readonly #servers: Server[] = [];
  readonly #connections = new Map<Socket, { state: ConnectionState; served: Promise<void> }>();
  readonly #chat = new ChatRooms();
  readonly #shares: ConnectionShares;
  #nextId = 1;
  #state: State = 'idle';
  #closed: Promise<void> | null = null;

  constructor(options: TcpFileServerOptions) {
    this.#options = options;
    this.#shares = new ConnectionShares(options.maxConnections, options.maxConnectionsPerAddress ?? options.maxConnections);
  }

  /**
   * Adds a listener; resolves with the bound endpoint (port 0 picks a free port). `backlog` is listen(2)'s
   * queue of completed connections not yet accepted; the kernel silently caps it at
   * /proc/sys/net/core/somaxconn, so a larger value is logged as a warning.
   */
  async listen(endpoint: Endpoint, backlog: number): Promise<BoundListener> {
    if (this.#state === 'closing' || this.#state === 'closed') throw new Error(`cannot listen while ${this.#state}`);
    await warnAboveSomaxconn(backlog, this.#options.log);
    // allowHalfOpen: a client's FIN ends only its direction; the replies still owed to it are sent
    // before this side closes (tcp(7): shutdown(SHUT_WR) is a half-close).
    const server = createServer({ noDelay: true, allowHalfOpen: true }, (socket) => this.#accept(socket));
    if (endpoint.kind === 'unix') await removeStaleSocket(endpoint.path);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      const onListening = () => {
        server.off('error', reject);
        resolve();
      };
      if (endpoint.kind === 'unix') server.listen({ path: endpoint.path, backlog }, onListening);
      // ipv6Only: "[::]:9000" means IPv6 only, so it can sit beside "0.0.0.0:9000" (ipv6(7): IPV6_V6ONLY).
      else server.listen({ host: endpoint.host, port: endpoint.port, backlog, ipv6Only: endpoint.host.includes(':') }, onListening);
    });
    // After listening, an error (EMFILE on accept, say) is logged instead of crashing every connection.
    server.on('error', (error) => this.#options.log.error('server-error', { error }));
    this.#servers.push(server);
    this.#state = 'listening';
    const address = server.address();
    if (typeof address === 'string' || address === null) return { endpoint: { kind: 'unix', path: String(address) }, backlog };
    return { endpoint: { kind: 'tcp', host: address.address, port: address.port }, backlog };
  }

  #accept(socket: Socket): void {
    const { log, idleTimeoutMs } = this.#options;
    const id = this.#nextId++;
    const peer = socket.remoteAddress ? { address: socket.remoteAddress, port: socket.remotePort } : { unix: id };
    const peerText = socket.remoteAddress ? `${socket.remoteAddress}:${socket.remotePort}` : `unix#${id}`;
    // A reset or EPIPE can arrive at any moment, also after serveConnection stopped reading; without a
    // listener it would be an uncaught 'error' event that takes the whole server down.
    socket.on('error', (error: NodeJS.ErrnoException) => log.debug('socket-error', { ...peer, code: error.code }));
    const address = addressKey(socket.remoteAddress);
    const error = this.#state !== 'listening' ? new LabError('LAB_ERR_SHUTTING_DOWN', 'the server is stopping') : this.#shares.admit(address);
    if (error) {
      log.warn('refused', { ...peer, code: error.code, msg: `refused ${peerText}: ${error.code}` });
      socket.write(encodeFrameHeader({ type: 'error', code: error.code, message: error.message } satisfies ServerMessage));
      lingeringClose(socket);
      return;
    }
    log.info('accept', { ...peer, msg: `accepted ${peerText} (${this.#connections.size + 1} open)` });
    // Who closed: whichever FIN came first, the client's ('end': its half is done) or ours ('finish').
    let closedBy: 'client' | 'server' | undefined;
    socket.once('end', () => (closedBy ??= 'client'));
    socket.once('finish', () => (closedBy ??= 'server'));
    socket.on('close', (hadError) => {
      const by = closedBy ?? 'server';
      const how = hadError || closedBy === undefined ? 'reset' : 'clean';
      log.info('close', { ...peer, msg: `closed ${peerText} by the ${by} (${how})`, by, clean: how === 'clean' });
    });
    const state: ConnectionState = { peer: peerText, address, busy: false };
    const context = {
      store: this.#options.store,
      chat: this.#chat,
      log,
      limits: this.#options.limits,
      idleTimeoutMs,
      serverName: this.#options.serverName ?? 'lab-tcp-server',
      draining: () => this.#state !== 'listening',
    };
    const served = serveConnection(socket, context, state)
      .catch((error: unknown) => log.error('connection-failed', { ...peer, error }))
      .finally(() => {
        this.#connections.delete(socket);
        this.#shares.release(address);
      });
    this.#connections.set(socket, { state, served });
  }

  get connections(): number {
    return this.#connections.size;
  }

  /**
   * Stops gracefully: stops accepting, closes idle connections, lets requests in progress finish for up
   * to `graceMs`, then destroys what is left (interrupted uploads stay resumable). Idempotent.
   */
  close(graceMs = 0): Promise<void> {
    this.#closed ??= (async () => {
      if (this.#state === 'idle') {
        this.#state = 'closed';
        return;
      }
      this.#state = 'closing';
      const stopped = Promise.all(this.#servers.map((server) => new Promise<void>((resolve) => server.close(() => resolve()))));
      for (const [socket, { state }] of this.#connections) if (!state.busy) lingeringClose(socket);
      const all = Promise.all([...this.#connections.values()].map((c) => c.served));
      const inTime = await Promise.race([all.then(() => true), sleep(graceMs, false, { ref: false })]);
      if (!inTime) {
        this.#options.log.warn('grace-expired', { open: this.#connections.size, graceMs });
        for (const socket of this.#connections.keys()) socket.destroy();
        await all;
      }
      await stopped;
      this.#state = 'closed';
    })();
    return this.#closed;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

async function warnAboveSomaxconn(backlog: number, log: Logger): Promise<void> {
  const somaxconn = Number((await readFile('/proc/sys/net/core/somaxconn', 'utf8').catch(() => '')).trim());
  if (somaxconn > 0 && backlog > somaxconn) {
    log.warn('backlog-capped', { backlog, somaxconn, msg: `listen backlog ${backlog} is above net.core.somaxconn (${somaxconn}); the kernel uses ${somaxconn}` });
  }
}

/**
 * A Unix socket path left by a server that died blocks listen() with EADDRINUSE. Remove it only if
 * nobody answers on it, so a running server's socket is never stolen.
 */
async function removeStaleSocket(path: string): Promise<void> {
  const info = await stat(path).catch(() => null);
  if (!info) return;
  if (!info.isSocket()) throw new LabError('LAB_ERR_CONFIG', `${path} exists and is not a socket`);
  const alive = await new Promise<boolean>((resolve) => {
    const probe = connect({ path });
    probe.once('connect', () => {
      probe.destroy();
      resolve(true);
    });
    probe.once('error', () => resolve(false));
  });
  if (alive) throw new LabError('LAB_ERR_CONFIG', `another server is listening on ${formatEndpoint({ kind: 'unix', path })}`);
  await rm(path, { force: true });
}
