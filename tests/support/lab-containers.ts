import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
export { jsonLines } from '../../lab/json-lines.ts';
import { GenericContainer, getContainerRuntimeClient, Wait, type StartedTestContainer } from 'testcontainers';
import { programs, readinessLine } from '../../lab/service-process.ts';

export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const LAB_IMAGE = process.env.LAB_IMAGE ?? 'tcp-udp-lab:latest';
export const TCP_PORT = 9000;
export const UDP_PORT = 9001;

/**
 * Builds the lab image the way `npm run demo` does (scripts/bootstrap.sh: idempotent, seconds when
 * cached), so the containers under test always run the code under test.
 */
export function buildLabImage(): void {
  const result = spawnSync('bash', [join(repoRoot, 'scripts/bootstrap.sh')], { cwd: repoRoot, stdio: ['ignore', 'inherit', 'inherit'] });
  if (result.status !== 0) throw new Error(`scripts/bootstrap.sh failed with status ${result.status}`);
}

/**
 * A bridge network with `Internal: true`, like the lab's: no route or NAT to the outside.
 * (testcontainers' own Network is never internal.)
 */
export async function createInternalNetwork(): Promise<{ name: string; remove: () => Promise<void> }> {
  const client = await getContainerRuntimeClient();
  const name = `tcp-udp-lab-test-${randomUUID().slice(0, 8)}`;
  const network = await client.network.create({ Name: name, Driver: 'bridge', Internal: true, Labels: { 'org.tcp-udp-lab.test': 'true' } });
  return { name, remove: () => client.network.remove(network) };
}

/**
 * A lab container attached only to `network`, with DNS aliases. testcontainers' withNetworkAliases would
 * also leave the container on Docker's default bridge, which can reach outside; the lab must not.
 */
export class LabContainer extends GenericContainer {
  readonly output: string[] = [];

  constructor(command: string[]) {
    super(LAB_IMAGE);
    this.withCommand(command).withLogConsumer((stream: Readable) => {
      stream.on('data', (chunk: Buffer | string) => this.output.push(chunk.toString()));
    });
  }

  onNetwork(network: string, ...aliases: string[]): this {
    this.withNetworkMode(network);
    this.createOpts.NetworkingConfig = { EndpointsConfig: { [network]: { Aliases: aliases } } };
    return this;
  }

  text(): string {
    return this.output.join('');
  }
}

/** NET_ADMIN lets `docker exec --user 0` impair the container's interface; the service itself runs as uid 10001. */
export function tcpServer(network: string): LabContainer {
  return new LabContainer(['node', programs['tcp-server']])
    .onNetwork(network, 'tcp-server')
    .withAddedCapabilities('NET_ADMIN')
    .withEnvironment({ TCP_SERVER_LISTEN: `0.0.0.0:${TCP_PORT}`, LOG_FORMAT: 'json' })
    .withWaitStrategy(Wait.forLogMessage(readinessLine['tcp-server']))
    .withStartupTimeout(30_000);
}

export function udpRelay(network: string): LabContainer {
  return new LabContainer(['node', programs['udp-relay']])
    .onNetwork(network, 'udp-relay')
    .withAddedCapabilities('NET_ADMIN')
    .withEnvironment({ UDP_RELAY_PORT: String(UDP_PORT), UDP_RELAY_MODES: 'unicast,broadcast,multicast', UDP_RELAY_STATS_INTERVAL_MS: '0', LOG_FORMAT: 'json' })
    .withWaitStrategy(Wait.forLogMessage(readinessLine['udp-relay']))
    .withStartupTimeout(30_000);
}

/** The client as a one-shot container: start() returns once it exited, and fails unless it exited 0. */
export function client(network: string, args: string[]): LabContainer {
  return new LabContainer(['node', programs.client, ...args])
    .onNetwork(network)
    .withEnvironment({ LAB_SERVER: `tcp-server:${TCP_PORT}`, UDP_RELAY_HOST: 'udp-relay', LOG_FORMAT: 'json' })
    .withWaitStrategy(Wait.forOneShotStartup())
    .withStartupTimeout(120_000);
}

/**
 * A client container that waits (`sleep infinity`) to have experiments exec'd in it, as the sweep does;
 * NET_ADMIN for `docker exec --user 0` to make its TCP packets one segment each.
 */
export function sweepClient(network: string): LabContainer {
  return new LabContainer(['sleep', 'infinity'])
    .onNetwork(network)
    .withAddedCapabilities('NET_ADMIN')
    .withEnvironment({ LAB_SERVER: `tcp-server:${TCP_PORT}`, UDP_RELAY_HOST: 'udp-relay', LOG_FORMAT: 'json' });
}

/** Stops with SIGTERM (docker stop), keeps the container long enough to read its exit status, removes it. */
export async function stopAndInspect(container: StartedTestContainer): Promise<{ exitCode: number }> {
  // testcontainers takes the grace period in ms (docker stop -t gets it in whole seconds): 10 meant
  // `-t 0`, SIGKILL right after SIGTERM, and a service that took a few ms to stop exited 137 (seen in CI).
  await container.stop({ remove: false, timeout: 10_000 });
  const runtime = await getContainerRuntimeClient();
  const handle = runtime.container.getById(container.getId());
  const info = await handle.inspect();
  await runtime.container.remove(handle, { removeVolumes: true });
  return { exitCode: info.State.ExitCode };
}

/**
 * Fails when a container testcontainers made, or a test network, is still there: the tests must leave
 * nothing behind (Ryuk, which would clean up, cannot run without an image registry).
 */
export function assertNothingLeft(): void {
  const list = (args: string[]) => spawnSync('docker', args, { encoding: 'utf8' }).stdout.trim();
  assert.equal(list(['ps', '-aq', '--filter', 'label=org.testcontainers=true']), '', 'containers left behind');
  assert.equal(list(['network', 'ls', '-q', '--filter', 'label=org.tcp-udp-lab.test=true']), '', 'networks left behind');
}
