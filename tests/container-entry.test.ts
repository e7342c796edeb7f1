// The containers' entry under Compose: as root with NET_ADMIN it sets the lab interface up (one TCP
// segment per packet, and IMPAIR when set), then runs the service as uid 10001 with no capability left.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { GenericContainer, Wait, type StartedTestContainer } from 'testcontainers';
import { dockerExecRun } from '../lab/docker-exec.ts';
import { assertNothingLeft, buildLabImage, createInternalNetwork, LAB_IMAGE, TCP_PORT } from './support/lab-containers.ts';
import { LAB_UID } from '@lab/runtime';
import { programs, readinessLine } from '../lab/service-process.ts';

const ENTRY = ['node', programs['container-entry'], programs['tcp-server']];

describe('container entry (IMPAIR for Compose users)', { timeout: 300_000 }, () => {
  let network: Awaited<ReturnType<typeof createInternalNetwork>> | undefined;
  const started: StartedTestContainer[] = [];

  before(async () => {
    buildLabImage();
    network = await createInternalNetwork();
  });

  after(async () => {
    for (const container of started.reverse()) await container.stop({ timeout: 5, remove: true }).catch(() => {});
    await network?.remove().catch(() => {});
  });

  const server = (impair: string) =>
    new GenericContainer(LAB_IMAGE)
      .withCommand(ENTRY)
      .withUser('0')
      .withNetworkMode(network!.name)
      .withAddedCapabilities('NET_ADMIN')
      .withEnvironment({ IMPAIR: impair, TCP_SERVER_LISTEN: `0.0.0.0:${TCP_PORT}`, LOG_FORMAT: 'json' });

  it('applies IMPAIR to packets into the container, then serves as uid 10001 with no capabilities', async () => {
    const container = await server('loss 10%').withWaitStrategy(Wait.forLogMessage(readinessLine['tcp-server'])).withStartupTimeout(30_000).start();
    started.push(container);
    const id = container.getId();
    const rules = await dockerExecRun(id, ['iptables', '-w', '-S'], { user: '0' });
    const impaired = (await dockerExecRun(id, ['iptables', '-w', '-S', 'LAB-IMPAIR'], { user: '0' })).output;
    if (/LAB-IMPAIR/.test(rules.output)) {
      assert.match(rules.output, /-A INPUT -i eth0 -j LAB-IMPAIR/);
      assert.doesNotMatch(rules.output, /-A OUTPUT -o eth0 -j LAB-IMPAIR/);
      assert.match(impaired, /--probability 0\.1\d* -j DROP/);
    } else {
      const qdiscs = (await dockerExecRun(id, ['tc', 'qdisc', 'show'], { user: '0' })).output;
      assert.match(qdiscs, /netem .*loss 10%/);
    }
    const status = (await dockerExecRun(id, ['cat', '/proc/1/status'])).output;
    assert.match(status, new RegExp(`^Uid:\\s+${LAB_UID}\\s+${LAB_UID}\\s+${LAB_UID}\\s+${LAB_UID}$`, 'm'), status);
    assert.match(status, /^CapEff:\s+0+$/m, 'the service keeps no capability');
    assert.match(status, /^CapPrm:\s+0+$/m);
    const link = (await dockerExecRun(id, ['ip', '-d', 'link', 'show', 'eth0'])).output;
    assert.match(link, /gso_max_segs 1\b/);
  });

  it('refuses a profile the kernel cannot apply, by name, and does not start the service', async (t) => {
    const probe = await dockerExecRun(started[0]!.getId(), ['tc', 'qdisc', 'replace', 'dev', 'eth0', 'root', 'netem', 'delay', '1ms'], { user: '0' });
    if (probe.code === 0) return t.skip('this kernel has netem: delay is applied, not refused');
    const output: string[] = [];
    const container = await server('delay 20ms')
      .withLogConsumer((stream) => stream.on('data', (chunk: Buffer | string) => output.push(chunk.toString())))
      .withWaitStrategy(Wait.forOneShotStartup())
      .withStartupTimeout(30_000)
      .start()
      .then((c) => c, (error: Error) => error);
    assert.ok(container instanceof Error, 'the container must exit with an error');
    const text = output.join('');
    assert.match(text, /LAB_ERR_IMPAIRMENT_UNSUPPORTED: "delay 20ms": delay needs tc netem/);
    assert.doesNotMatch(text, /listening on tcp/);
  });
});

describe('after the container entry tests', () => {
  it('left no container or test network behind', () => assertNothingLeft());
});
