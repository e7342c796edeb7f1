import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import type { Logger } from '@lab/runtime';
import { serveConnection, type ConnectionLimits } from './connection.ts';
import type { FileStore } from './file-store.ts';

export interface TcpFileServerOptions {
  store: FileStore;
  log: Logger;
  limits: ConnectionLimits;
  /** A connection with no traffic for this long is closed (socket.setTimeout). */
  idleTimeoutMs: number;
  serverName?: string;
}

export interface ListenOptions {
  host: string;
  port: number;
  /** listen(2) backlog: completed connections waiting for accept(); the kernel caps it at somaxconn. */
  backlog: number;
}

type State = 'idle' | 'listening' | 'closing' | 'closed';

/** Accepts connections and hands each to `serveConnection`; it owns the listener and the open sockets. */
export class TcpFileServer {
  readonly #options: TcpFileServerOptions;
  readonly #server: Server;
  readonly #sockets = new Set<Socket>();
  readonly #connections = new Set<Promise<void>>();
  #state: State = 'idle';
  #closed: Promise<void> | null = null;

  constructor(options: TcpFileServerOptions) {
    this.#options = options;
    // allowHalfOpen: a client's FIN ends only its direction; the replies still owed to it are sent
    // before this side closes (tcp(7): shutdown(SHUT_WR) is a half-close).
    this.#server = createServer({ noDelay: true, allowHalfOpen: true }, (socket) => this.#accept(socket));
  }

  /** Resolves with the bound address (port 0 picks a free port). */
  async listen({ host, port, backlog }: ListenOptions): Promise<AddressInfo> {
    if (this.#state !== 'idle') throw new Error(`cannot listen while ${this.#state}`);
    await new Promise<void>((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen({ host, port, backlog }, () => {
        this.#server.off('error', reject);
        resolve();
      });
    });
    // After listening, an error (EMFILE on accept, say) is logged instead of crashing every connection.
    this.#server.on('error', (error) => this.#options.log.error('server-error', { error }));
    this.#state = 'listening';
    return this.#server.address() as AddressInfo;
  }

  #accept(socket: Socket): void {
    const peer = { address: socket.remoteAddress, port: socket.remotePort };
    const { log, store, limits, idleTimeoutMs } = this.#options;
    log.info('accept', { ...peer, msg: `accepted ${peer.address}:${peer.port}` });
    this.#sockets.add(socket);
    socket.setTimeout(idleTimeoutMs, () => {
      log.warn('idle-timeout', { ...peer, idleTimeoutMs });
      socket.destroy();
    });
    // A reset or EPIPE can arrive at any moment, also after serveConnection stopped reading; without a
    // listener it would be an uncaught 'error' event that takes the whole server down.
    socket.on('error', (error: NodeJS.ErrnoException) => log.debug('socket-error', { ...peer, code: error.code }));
    socket.on('close', (hadError) => {
      this.#sockets.delete(socket);
      log.info('close', { ...peer, clean: !hadError });
    });
    const served: Promise<void> = serveConnection(socket, { store, log, limits, serverName: this.#options.serverName ?? 'lab-tcp-server' })
      .catch((error: unknown) => log.error('connection-failed', { ...peer, error }))
      .finally(() => this.#connections.delete(served));
    this.#connections.add(served);
  }

  /** Stops accepting, closes open connections and waits until their partial uploads are removed. Idempotent. */
  close(): Promise<void> {
    this.#closed ??= (async () => {
      if (this.#state === 'idle') {
        this.#state = 'closed';
        return;
      }
      this.#state = 'closing';
      const stopped = new Promise<void>((resolve) => this.#server.close(() => resolve()));
      for (const socket of this.#sockets) socket.destroy();
      await Promise.all(this.#connections);
      await stopped;
      this.#state = 'closed';
    })();
    return this.#closed;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}
