import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Lab } from './lab.ts';
import { runLocalClient, serviceLogs, startLocalService, stopLocalService, type Launch } from './local-service.ts';
import type { ServiceProcess } from './service-process.ts';

/** Why the loopback lab writes no capture. */
const NO_LOOPBACK_CAPTURE =
  'no packet capture: the client has no interface of its own here; capturing the host\'s loopback needs root and would record every local program\'s traffic, and its TCP segments are up to 64 KiB, not what a network carries';

/**
 * The local lab without root: the services as processes of this user on 127.0.0.1, on ports the kernel
 * picks. There is no network of the lab's own here: loss could only be injected into the whole host's
 * loopback (and that needs root too), and broadcast or multicast would go out on the host's networks.
 * So it runs the unimpaired experiment, unicast only, and says so.
 */
export async function startLoopbackLab(root: string): Promise<Lab> {
  const dataDir = mkdtempSync(join(tmpdir(), 'tcpudplab-loopback-'));
  const launch = (env: Record<string, string>): Launch => ({ prefix: [], env, cwd: root });
  const services: ServiceProcess[] = [];
  const close = async () => {
    await Promise.all(services.map((service) => stopLocalService(service)));
    rmSync(dataDir, { recursive: true, force: true });
  };
  let relayPort: string;
  let serverEndpoint: string;
  try {
    const server = await startLocalService('tcp-server', launch({ TCP_SERVER_LISTEN: '127.0.0.1:0', TCP_SERVER_DATA_DIR: dataDir }));
    services.push(server);
    const relay = await startLocalService('udp-relay', launch({ UDP_RELAY_HOST: '127.0.0.1', UDP_RELAY_PORT: '0', UDP_RELAY_MODES: 'unicast', UDP_RELAY_STATS_INTERVAL_MS: '0' }));
    services.push(relay);
    serverEndpoint = server.endpoints[0]!;
    relayPort = relay.endpoints[0]!.split(':').at(-1)!;
  } catch (error) {
    await close();
    throw error;
  }
  let closed: Promise<void> | undefined;
  return {
    backend: 'loopback',
    description: `local processes of uid ${process.getuid?.()} on 127.0.0.1 (tcp-server ${serverEndpoint}, udp-relay 127.0.0.1:${relayPort})`,
    hosts: null,
    modes: ['unicast'],
    limits: [
      'not root: no network namespaces, so the services share the host\'s loopback, where loss cannot be injected (it would need root and would hit the whole host)',
      'broadcast and multicast would leave the lab on the host\'s networks, so they are not run',
      'header bytes are not measured: loopback\'s counters hold both ends of every exchange on the host, and its packets are up to 64 KiB',
      NO_LOOPBACK_CAPTURE,
    ],
    capture: { unavailable: NO_LOOPBACK_CAPTURE },
    runClient: (args, onStderrLine) => runLocalClient(args, launch({ LAB_SERVER: serverEndpoint, UDP_RELAY_HOST: '127.0.0.1', UDP_RELAY_PORT: relayPort }), onStderrLine),
    serverLogs: () => serviceLogs(services),
    close: () => (closed ??= close()),
  };
}
