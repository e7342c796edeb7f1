// Loss injected into the lab network (netem where the kernel has it, iptables random drop where not, as
// here) on the packets going into both servers, step by step as `npm run demo` does it: TCP still
// delivers every byte, later, retransmitting; UDP loses what the network loses, within the binomial
// band of the loss the profile predicts for its path.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { StartedTestContainer } from 'testcontainers';
import { Impairer, parseProfile } from '@lab/impairment';
import { containerLab } from '../lab/container-lab.ts';
import { impairedHosts, type Lab } from '../lab/lab.ts';
import { sweepResultSchema, type SweepResult } from '@lab/results';
import { runSweep } from '../lab/sweep.ts';
import { assertUdpHeadersOnly, insideTestBand, lossPlan } from './support/sweep-checks.ts';
import { assertNothingLeft, buildLabImage, createInternalNetwork, sweepClient, tcpServer, udpRelay } from './support/lab-containers.ts';

describe('the lab under loss (containers)', { timeout: 900_000 }, () => {
  let network: Awaited<ReturnType<typeof createInternalNetwork>> | undefined;
  const started: StartedTestContainer[] = [];
  let lab: Lab;
  let result: SweepResult;

  before(async () => {
    buildLabImage();
    network = await createInternalNetwork();
    const [server, relay, client] = await Promise.all([tcpServer(network.name).start(), udpRelay(network.name).start(), sweepClient(network.name).start()]);
    started.push(server, relay, client);
    lab = containerLab({ tcpServer: server.getId(), udpRelay: relay.getId(), client: client.getId() }, `test network ${network.name}`, async () => {});
  });

  after(async () => {
    for (const container of started.reverse()) await container.stop({ timeout: 5, remove: true }).catch(() => {});
    await network?.remove().catch(() => {});
  });

  it('sweeps 0%, 10% and 30% loss into the servers, as npm run demo does', async () => {
    const settings = {
      plan: lossPlan([0, 10, 30]),
      direction: 'in' as const,
      fileBytes: 1024 * 1024,
      // No time limit: this test is about TCP delivering every byte, however long it takes.
      tcpDeadlineMs: 0,
      datagrams: 2000,
      datagramBytes: 512,
      rate: 2000,
      // One receiver per mode: receivers of one mode share the relay's input drops anyway, and every
      // receiver is a check that a correct lab fails 1% of the time.
      receivers: 1,
      modes: ['unicast', 'broadcast', 'multicast'] as const,
    };
    result = await runSweep(lab, { ...settings, modes: [...settings.modes] }, (line) => process.stderr.write(`${line}\n`));
    assert.equal(result.steps.length, 3);
  });

  it('writes a result that validates against its schema and names the backend and what was installed', () => {
    const parsed = sweepResultSchema.parse(JSON.parse(JSON.stringify(result)));
    assert.ok(parsed.impairment, 'a container lab can impair');
    assert.ok(['netem', 'iptables'].includes(parsed.impairment!.backend));
    assert.equal(parsed.impairment!.udpPathHops, 1);
    process.stderr.write(`impairment backend: ${parsed.impairment!.backend} (${parsed.impairment!.reason})\n`);
    for (const step of parsed.steps) {
      const installed = Object.values(step.installed).join('\n');
      if (parsed.impairment!.backend === 'iptables') {
        // The kernel keeps the probability as a 32-bit fraction and prints it back as such (0.30000000009).
        const probabilities = [...installed.matchAll(/--probability ([\d.]+)/g)].map((m) => Number(m[1]));
        assert.equal(probabilities.length, step.value > 0 ? 2 : 0, installed);
        for (const p of probabilities) assert.ok(Math.abs(p - step.value / 100) < 1e-6, installed);
        // Into the servers only: the chain is jumped to from INPUT, never from OUTPUT.
        assert.match(installed, /-A INPUT -i eth0 -j LAB-IMPAIR/);
        assert.doesNotMatch(installed, /-A OUTPUT -o eth0 -j LAB-IMPAIR/);
      } else assert.equal(step.value === 0 || installed.includes(`loss ${step.value}%`), true, installed);
    }
  });

  for (const lossPercent of [0, 10, 30]) {
    it(`at ${lossPercent}% loss: TCP delivers every byte; each UDP receiver loses within its band`, () => {
      const step = result.steps.find((s) => s.value === lossPercent)!;
      const { tcp, udp } = step.experiment;
      assert.ok(!('error' in tcp), JSON.stringify(tcp));
      assert.equal(tcp.identical, true, 'TCP: the copy is identical');
      assert.ok(!('error' in udp), JSON.stringify(udp));
      assert.equal(step.udp.length, 3);
      for (const mode of step.udp) {
        assert.ok(Math.abs(mode.expectedLossPercent - lossPercent) < 1e-9, `${mode.expectedLossPercent}`);
        for (const r of mode.receivers) {
          // The test band (about 99.9%): nine such checks a step at 99% would fail a correct lab one run in ten.
          assert.ok(insideTestBand(r.lost, r.lostBand99), `${mode.mode} receiver ${r.receiver}: lost ${r.lost} of ${r.sent}, 99% band for ${lossPercent}% is ${r.lostBand99.join('-')}`);
        }
      }
      for (const mode of udp.modes) for (const r of mode.receivers) assert.equal(r.duplicates, 0, 'loss drops, it does not duplicate');
      assertUdpHeadersOnly(step);
    });
  }

  it('pays for reliability in time: lower goodput, and segments retransmitted, under loss', () => {
    const upload = (loss: number) => result.steps.find((s) => s.value === loss)!.tcp.upload.measuredMbitPerS!;
    assert.ok(upload(10) < upload(0), `${upload(10)} Mbit/s at 10% against ${upload(0)} at 0%`);
    assert.ok(upload(30) < upload(0), `${upload(30)} Mbit/s at 30% against ${upload(0)} at 0%`);
    const retransmitted = (loss: number) => {
      const { tcp } = result.steps.find((s) => s.value === loss)!.experiment;
      return 'error' in tcp ? 0 : (tcp.segments?.retransmitted ?? 0);
    };
    // Without loss the kernel may still resend a few (tail loss probes, RFC 8985); under loss, many more.
    assert.ok(retransmitted(30) > retransmitted(0), `${retransmitted(30)} segments retransmitted at 30% against ${retransmitted(0)} at 0%`);
    // The models are there beside the measurement wherever the data met loss.
    assert.ok(result.steps.filter((s) => s.value > 0).every((s) => s.tcp.upload.mathisMbitPerS !== null && s.tcp.upload.rfc5348MbitPerS !== null));
  });

  it('applies a netem profile with delay in both directions where the kernel has netem', async (t) => {
    const impairer = await Impairer.create(impairedHosts(lab.hosts!), { direction: 'both' });
    // Containers share the host's kernel, and cannot run inside the user-mode Linux guest: this one needs
    // Docker on a kernel with netem. The same netem commands are tested on a real netem kernel in
    // tests/netem-kernel (inside the guest here).
    if (impairer.backend !== 'netem') return t.skip(`needs Docker on a kernel with netem (this one: ${impairer.reason}); tests/netem-kernel covers the same commands in a user-mode Linux kernel`);
    await impairer.apply(parseProfile('delay 20ms'));
    const installed = Object.values(await impairer.readBack()).join('\n');
    assert.equal(installed.split('delay 20ms').length - 1 >= 4, true, `egress and ifb ingress on both servers: ${installed}`);
    const run = await lab.runClient(['experiment', '--json', '--file-bytes', String(256 * 1024), '--modes', 'unicast', '--receivers', '1', '--datagrams', '200']);
    const report = JSON.parse(run.stdout.split('\n').find((line) => line.startsWith('{'))!) as { tcp: { connection: { rttMs: number } | null } };
    // 20 ms out of the server and 20 ms into it: a round trip of at least 40 ms, seen by the kernel.
    assert.ok((report.tcp.connection?.rttMs ?? 0) >= 40, JSON.stringify(report.tcp.connection));
    await impairer.apply(parseProfile('none'));
  });

  it('refuses what the backend cannot do, by name, before any step runs', async () => {
    const impairer = await Impairer.create(impairedHosts(lab.hosts!));
    if (impairer.backend === 'netem') return;
    await assert.rejects(impairer.apply(parseProfile('delay 20ms')), { code: 'LAB_ERR_IMPAIRMENT_UNSUPPORTED', message: /delay needs tc netem/ });
    const before = Date.now();
    await assert.rejects(
      runSweep(lab, { plan: lossPlan([0, 10], parseProfile('delay 20ms')), direction: 'in', fileBytes: 1024, tcpDeadlineMs: 0, datagrams: 10, datagramBytes: 64, rate: 100, receivers: 1, modes: ['unicast'] }, () => {}),
      { code: 'LAB_ERR_IMPAIRMENT_UNSUPPORTED', message: /delay needs tc netem/ },
    );
    assert.ok(Date.now() - before < 10_000, 'refused before running a step');
  });
});

describe('after the impairment tests', () => {
  it('left no container or test network behind', () => assertNothingLeft());
});
