import { createSocket, type Socket } from 'node:dgram';
import type { AddressInfo } from 'node:net';
import type { Logger } from '@lab/runtime';
import { counterDelta, readUdpHostCounters, type UdpHostCounters } from '@lab/host-counters';
import { JoinCookies } from './join-cookie.ts';
import { RelayCore, type Delivery, type RelayLimits } from './relay-core.ts';

export interface UdpRelayOptions {
  log: Logger;
  limits: RelayLimits;
  delivery: Delivery;
  /** The interface multicast is sent from (ip(7): IP_MULTICAST_IF); null: the kernel's choice. */
  multicastInterface: string | null;
  multicastTtl: number;
  /** Period of the per-room counters line; 0 turns it off. */
  statsIntervalMs: number;
  /** SO_RCVBUF asked for; the kernel caps it at net.core.rmem_max (socket(7)). */
  receiveBufferBytes: number;
}

type State = 'idle' | 'bound' | 'closed';

/** Expiry, rate buckets and cookie slots use a clock that never steps back (unlike Date.now()). */
const monotonicMs = () => Math.floor(performance.now());

/** Glues RelayCore to one UDP socket: every datagram in goes through the core, every send it asks for goes out. */
export class UdpRelay {
  readonly core: RelayCore;
  readonly #options: UdpRelayOptions;
  #socket: Socket | null = null;
  #timers: NodeJS.Timeout[] = [];
  #state: State = 'idle';
  #sendErrors = 0;
  #hostAtStart: UdpHostCounters | null = null;

  constructor(options: UdpRelayOptions) {
    this.#options = options;
    this.core = new RelayCore(options.limits, options.delivery, new JoinCookies());
  }

  /** Binds and resolves with the bound address (port 0 picks a free port). */
  async bind(host: string, port: number): Promise<AddressInfo> {
    if (this.#state !== 'idle') throw new Error(`cannot bind while ${this.#state}`);
    const { log, delivery } = this.#options;
    const socket = createSocket({ type: 'udp4' });
    this.#socket = socket;
    // Checked once: under a flood, building each dropped datagram's log fields cost more than dropping it.
    const logDrops = log.enabled('debug');
    socket.on('message', (bytes, rinfo) => {
      const verdict = this.core.handle(bytes, rinfo, monotonicMs());
      if (verdict.drop && logDrops) log.debug('drop', { code: verdict.drop, from: `${rinfo.address}:${rinfo.port}`, bytes: bytes.length });
      for (const out of verdict.outgoing) {
        try {
          socket.send(out.bytes, out.to.port, out.to.address, (error) => {
            // udp(7): a send can fail (ENOBUFS, or ECONNREFUSED reported from an earlier ICMP); UDP does not retry.
            if (error) this.#sendErrors++;
          });
        } catch {
          // A destination Node refuses outright (a bad port) must not take the relay down.
          this.#sendErrors++;
        }
      }
    });
    socket.on('error', (error) => log.error('socket-error', { error }));
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(port, host, () => {
        socket.off('error', reject);
        resolve();
      });
    });
    // A relay reads for a whole room: a burst that outruns it waits in this buffer, or is dropped by the
    // kernel (counted in RcvbufErrors, shown in the stats as host drops, not network loss).
    socket.setRecvBufferSize(this.#options.receiveBufferBytes);
    log.info('receive-buffer', { asked: this.#options.receiveBufferBytes, got: socket.getRecvBufferSize() });
    this.#hostAtStart = await readUdpHostCounters();
    // socket(7) SO_BROADCAST: without it, sending to a broadcast address fails with EACCES.
    if (delivery.broadcast) socket.setBroadcast(true);
    socket.setMulticastTTL(this.#options.multicastTtl);
    if (this.#options.multicastInterface) socket.setMulticastInterface(this.#options.multicastInterface);
    this.#state = 'bound';
    const sweep = setInterval(() => {
      const expired = this.core.expire(monotonicMs());
      if (expired > 0) log.info('expired', { members: expired, msg: `${expired} silent member(s) expired` });
    }, 1000);
    this.#timers.push(sweep);
    if (this.#options.statsIntervalMs > 0) this.#timers.push(setInterval(() => void this.logStats(), this.#options.statsIntervalMs));
    for (const timer of this.#timers) timer.unref();
    return socket.address();
  }

  async logStats(): Promise<void> {
    // This host's UDP counters since the relay started: datagrams the kernel dropped before the relay
    // could read them are loss caused here, whatever the network did.
    const host = counterDelta(this.#hostAtStart, await readUdpHostCounters());
    this.#options.log.info('stats', { ...this.core.counters, sendErrors: this.#sendErrors, host, rooms: this.core.rooms() });
  }

  /** Idempotent; logs the final counters once. */
  async close(): Promise<void> {
    if (this.#state === 'closed') return;
    const wasBound = this.#state === 'bound';
    this.#state = 'closed';
    for (const timer of this.#timers) clearInterval(timer);
    if (!wasBound || !this.#socket) return;
    await this.logStats();
    const socket = this.#socket;
    await new Promise<void>((resolve) => socket.close(() => resolve()));
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}
