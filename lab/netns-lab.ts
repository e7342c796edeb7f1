import { spawnSync } from 'node:child_process';
import { chownSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Exec } from '@lab/impairment';
import { deliveryModes, LabError } from '@lab/protocol';
import { LAB_UID } from '@lab/runtime';
import type { Lab } from './lab.ts';
import { namespaceCapturer } from './capture/client-capture.ts';
import { runLocal, runLocalClient, serviceLogs, startLocalService, stopLocalService, type Launch } from './local-service.ts';
import { programs, type ServiceProcess } from './service-process.ts';
import { livePidIn } from './pid-file.ts';

/** Every namespace, link and folder this lab makes starts with this, so a later run can find leftovers. */
export const NETNS_PREFIX = 'tcpudplab';
const SWITCH = `${NETNS_PREFIX}-switch`;
/** Host-side ends of the veth pairs, before they move into the switch namespace (IFNAMSIZ: 15 chars). */
const VETH_PREFIX = 'tcpudplab';
/** A private test subnet (RFC 1918) for the lab; nothing routes to or from it. */
const SUBNET = '10.213.47';

const roles = {
  'tcp-server': { address: `${SUBNET}.2`, veth: `${VETH_PREFIX}-srv` },
  'udp-relay': { address: `${SUBNET}.3`, veth: `${VETH_PREFIX}-rly` },
  client: { address: `${SUBNET}.4`, veth: `${VETH_PREFIX}-cli` },
} as const;
type Role = keyof typeof roles;

const namespaceOf = (role: Role) => `${NETNS_PREFIX}-${role}`;

function ip(args: string[], { tolerate = false } = {}): string {
  const result = spawnSync('ip', args, { encoding: 'utf8' });
  if (result.status !== 0 && !tolerate) throw new LabError('LAB_ERR_CONFIG', `\`ip ${args.join(' ')}\` failed: ${(result.stderr || result.error?.message || '').trim()}`);
  return result.stdout ?? '';
}

/**
 * Which process holds the lab: the namespaces have fixed names, so a second run would tear down the first
 * one's. Root only, like the namespaces themselves (ip-netns(8) keeps them under /run/netns).
 */
export const OWNER_FILE = `/run/${NETNS_PREFIX}.pid`;

/** Takes the lab for this process, or fails with LAB_ERR_LAB_IN_USE naming the live run that holds it. */
function claimLab(): void {
  const owner = livePidIn(OWNER_FILE); // a run that died leaves a pid nobody has
  if (owner !== null) {
    throw new LabError('LAB_ERR_LAB_IN_USE', `another run (pid ${owner}) holds the lab in network namespaces (${OWNER_FILE}); wait for it to end or stop it`);
  }
  removeNetnsLab();
  try {
    writeFileSync(OWNER_FILE, `${process.pid}\n`, { flag: 'wx' });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') throw new LabError('LAB_ERR_LAB_IN_USE', `another run took the lab in network namespaces just now (${OWNER_FILE})`);
    throw error;
  }
}

/** The lab's namespaces that exist now (`ip netns list` prints "name (id: N)" or just "name"). */
export function labNamespaces(): string[] {
  return ip(['netns', 'list'], { tolerate: true })
    .split('\n')
    .map((line) => line.split(' ')[0]!)
    .filter((name) => name.startsWith(`${NETNS_PREFIX}-`));
}

/** Links of this lab left in the host's namespace (a run that died between creating a pair and moving it). */
export function labLinks(): string[] {
  return ip(['-o', 'link', 'show'], { tolerate: true })
    .split('\n')
    .map((line) => /^\d+: ([^:@]+)/.exec(line)?.[1] ?? '')
    .filter((name) => name.startsWith(VETH_PREFIX));
}

/**
 * Removes everything a namespace lab made: kills the processes in its namespaces, deletes them (their
 * veth ends and the bridge go with them), stray host-side links, and data folders. Synchronous, so a
 * signal handler can call it; also run at every start, for what a crashed (SIGKILLed) run left.
 */
export function removeNetnsLab(): void {
  for (const namespace of labNamespaces()) {
    for (const pid of ip(['netns', 'pids', namespace], { tolerate: true }).split('\n').filter(Boolean)) {
      try {
        process.kill(Number(pid), 'SIGKILL');
      } catch {
        // already gone
      }
    }
    ip(['netns', 'del', namespace], { tolerate: true });
  }
  for (const link of labLinks()) ip(['link', 'del', link], { tolerate: true });
  for (const entry of readdirSync(tmpdir())) if (entry.startsWith(`${NETNS_PREFIX}-data-`)) rmSync(join(tmpdir(), entry), { recursive: true, force: true });
  rmSync(OWNER_FILE, { force: true });
}

/**
 * Builds the lab network: a switch namespace holding a bridge, and one namespace per service, each
 * joined to the bridge by a veth pair, with an address in SUBNET. The bridge has no address and its
 * namespace no other link, so nothing is routed into or out of the lab; the host's own namespace keeps
 * nothing (its iptables, which Docker fills, never see lab packets).
 */
function buildNetwork(): void {
  ip(['netns', 'add', SWITCH]);
  ip(['-n', SWITCH, 'link', 'set', 'lo', 'up']);
  ip(['-n', SWITCH, 'link', 'add', 'br0', 'type', 'bridge']);
  ip(['-n', SWITCH, 'link', 'set', 'br0', 'up']);
  for (const [role, { address, veth }] of Object.entries(roles) as [Role, (typeof roles)[Role]][]) {
    const namespace = namespaceOf(role);
    ip(['netns', 'add', namespace]);
    ip(['link', 'add', veth, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', namespace]);
    ip(['link', 'set', veth, 'netns', SWITCH]);
    ip(['-n', SWITCH, 'link', 'set', veth, 'master', 'br0', 'up']);
    ip(['-n', namespace, 'link', 'set', 'lo', 'up']);
    ip(['-n', namespace, 'addr', 'add', `${address}/24`, 'dev', 'eth0']);
    ip(['-n', namespace, 'link', 'set', 'eth0', 'up']);
    // No default route (nothing outside), but multicast needs a route to pick its interface (ip(7)).
    ip(['-n', namespace, 'route', 'add', '224.0.0.0/4', 'dev', 'eth0']);
  }
}

/**
 * Runs argv as root in a namespace. ip and tc are told the namespace themselves (`-n`, ip-netns(8)): one
 * program instead of two, which matters where every process costs (a user-mode kernel: 60 ms a process);
 * anything else runs under `ip netns exec`.
 */
export function netnsExec(namespace: string, cwd: string): Exec {
  return (argv) => {
    const [program, ...args] = argv;
    if (program === 'ip' || program === 'tc') return runLocal([program, '-n', namespace, ...args], { prefix: [], env: {}, cwd });
    return runLocal(argv, { prefix: ['ip', 'netns', 'exec', namespace], env: {}, cwd });
  };
}

/** Can uid 10001 read the checkout (and so run the services)? A checkout under /root cannot be. */
function labUserCanRead(root: string): boolean {
  const probe = spawnSync('setpriv', [`--reuid=${LAB_UID}`, `--regid=${LAB_UID}`, '--clear-groups', process.execPath, '-e', `require('fs').accessSync(${JSON.stringify(join(root, programs.client))})`], { encoding: 'utf8' });
  return probe.status === 0;
}

/** What the namespaces lab says of itself when it runs inside a user-mode Linux kernel (lab/uml-lab.ts). */
export interface GuestTraits {
  kernel: string;
  limits: readonly string[];
  honestUdpRate: number;
}

/**
 * The local lab as root: the three services as processes, each in its own network namespace. With
 * `guest`, it is the uml lab: the same namespaces, inside a user-mode Linux kernel.
 */
export async function startNetnsLab(root: string, guest?: GuestTraits): Promise<Lab> {
  claimLab();
  const asLabUser = labUserCanRead(root);
  const user = asLabUser ? ['setpriv', `--reuid=${LAB_UID}`, `--regid=${LAB_UID}`, '--clear-groups'] : [];
  const launch = (role: Role, env: Record<string, string> = {}): Launch => ({ prefix: ['ip', 'netns', 'exec', namespaceOf(role), ...user], env, cwd: root });
  const services: ServiceProcess[] = [];
  const close = async () => {
    await Promise.all(services.map((service) => stopLocalService(service)));
    removeNetnsLab();
  };
  try {
    buildNetwork();
    const dataDir = mkdtempSync(join(tmpdir(), `${NETNS_PREFIX}-data-`));
    if (asLabUser) chownSync(dataDir, LAB_UID, LAB_UID);
    services.push(
      await startLocalService('tcp-server', launch('tcp-server', { TCP_SERVER_LISTEN: '0.0.0.0:9000', TCP_SERVER_DATA_DIR: dataDir })),
      await startLocalService('udp-relay', launch('udp-relay', { UDP_RELAY_PORT: '9001', UDP_RELAY_MODES: deliveryModes.join(','), UDP_RELAY_STATS_INTERVAL_MS: '0' })),
    );
  } catch (error) {
    await close();
    throw error;
  }
  const rootExec = (role: Role): Exec => netnsExec(namespaceOf(role), root);
  let closed: Promise<void> | undefined;
  return {
    backend: guest ? 'uml' : 'namespaces',
    ...(guest && { honestUdpRate: guest.honestUdpRate }),
    description: `${guest ? `inside ${guest.kernel}: ` : ''}local processes in network namespaces ${Object.keys(roles).map((role) => namespaceOf(role as Role)).join(', ')}, joined by veth pairs to a bridge in ${SWITCH} (${SUBNET}.0/24, no route out)${asLabUser ? `, running as uid ${LAB_UID}` : `, running as root (uid ${LAB_UID} cannot read this checkout)`}`,
    hosts: { tcpServer: { name: 'tcp-server', exec: rootExec('tcp-server') }, udpRelay: { name: 'udp-relay', exec: rootExec('udp-relay') }, client: { name: 'client', exec: rootExec('client') } },
    modes: deliveryModes,
    limits: guest?.limits ?? [],
    capture: namespaceCapturer(namespaceOf('client')),
    runClient: (args, onStderrLine) =>
      runLocalClient(args, launch('client', { LAB_SERVER: `${roles['tcp-server'].address}:9000`, UDP_RELAY_HOST: roles['udp-relay'].address, UDP_RELAY_PORT: '9001' }), onStderrLine),
    serverLogs: () => serviceLogs(services),
    close: () => (closed ??= close()),
  };
}
