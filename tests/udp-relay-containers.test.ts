// The UDP relay across containers: receivers in their own containers (as separate hosts on the lab
// network) count a paced stream that a sender container sends through the relay, in each delivery mode.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { getContainerRuntimeClient, Wait, type StartedTestContainer } from 'testcontainers';
import { assertNothingLeft, buildLabImage, createInternalNetwork, jsonLines, LabContainer, udpRelay } from './support/lab-containers.ts';
import { programs } from '../lab/service-process.ts';

const DATAGRAMS = 1500;

function udpCommand(network: string, args: string[]): LabContainer {
  return new LabContainer(['node', programs.client, ...args, '--relay', 'udp-relay', '--json']).onNetwork(network).withEnvironment({ LOG_FORMAT: 'json' });
}

/** Waits until a container has exited on its own; returns its exit code. */
async function exited(container: StartedTestContainer, timeoutMs = 60_000): Promise<number> {
  const runtime = await getContainerRuntimeClient();
  const handle = runtime.container.getById(container.getId());
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const info = await handle.inspect();
    if (!info.State.Running) return info.State.ExitCode;
    if (Date.now() > deadline) throw new Error(`${container.getName()} still running after ${timeoutMs} ms`);
    await sleep(200);
  }
}

describe('UDP relay delivery modes across containers', { timeout: 600_000 }, () => {
  let network: Awaited<ReturnType<typeof createInternalNetwork>> | undefined;
  const started: StartedTestContainer[] = [];

  before(async () => {
    buildLabImage();
    network = await createInternalNetwork();
    started.push(await udpRelay(network.name).start());
  });

  after(async () => {
    for (const container of started.reverse()) await container.stop({ timeout: 5, remove: true }).catch(() => {});
    await network?.remove().catch(() => {});
  });

  for (const [index, mode] of (['unicast', 'broadcast', 'multicast'] as const).entries()) {
    it(`${mode}: three receiver containers each get every datagram of a paced stream`, async () => {
      const room = String(100 + index);
      const receivers = Array.from({ length: 3 }, () =>
        // A receive buffer of 4 MiB, as the relay's: on a loaded machine a receiver that is not scheduled
        // for a few tens of ms would otherwise drop datagrams itself (seen once: 4 of 1500), which is this
        // host's loss, not the relay's; the failure message below shows the host's counters.
        udpCommand(network!.name, ['receive', '--room', room, '--mode', mode, '--timeout-ms', '60000', '--drain-ms', '500', '--receive-buffer-bytes', String(4 << 20)])
          .withAutoRemove(false)
          .withWaitStrategy(Wait.forLogMessage(/receiving room/))
          .withStartupTimeout(30_000),
      );
      const running = await Promise.all(receivers.map((r) => r.start()));
      started.push(...running);
      const sender = udpCommand(network!.name, ['stream', '--room', room, '--mode', mode, '--datagrams', String(DATAGRAMS), '--rate', '3000'])
        .withWaitStrategy(Wait.forOneShotStartup())
        .withStartupTimeout(60_000);
      try {
        started.push(await sender.start());
      } catch (error) {
        assert.fail(`sender failed: ${(error as Error).message}\n${sender.text()}`);
      }
      const sent = jsonLines(sender.text()).find((l) => l.attempted !== undefined);
      assert.deepEqual({ attempted: sent?.attempted, sendErrors: sent?.sendErrors }, { attempted: DATAGRAMS, sendErrors: 0 }, sender.text());
      for (const [i, container] of running.entries()) {
        assert.equal(await exited(container), 0, receivers[i]!.text());
        const result = jsonLines(receivers[i]!.text()).find((l) => l.announced !== undefined);
        assert.ok(result, receivers[i]!.text());
        assert.deepEqual(
          { mode: result.mode, announced: result.announced, unique: result.unique, lost: result.lost, duplicates: result.duplicates, otherSenders: result.otherSenders },
          { mode, announced: DATAGRAMS, unique: DATAGRAMS, lost: 0, duplicates: 0, otherSenders: 0 },
          `receiver ${i + 1} (host counters in its container: ${JSON.stringify(result.host)})`,
        );
        // Where it listened shows the mode took effect: its own socket, the subnet broadcast, or the group.
        const where = { unicast: /^:\d+$/, broadcast: /^\d+\.\d+\.\d+\.255:9002$/, multicast: /^239\.\d+\.\d+\.\d+:9003$/ }[mode];
        assert.match(String(result.listen), where);
      }
    });
  }
});

// Runs after the suite above, its after-hook included.
describe('after the container tests', () => {
  it('left no container or test network behind', () => assertNothingLeft());
});
