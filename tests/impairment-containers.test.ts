// Loss injected into the lab network (netem where the kernel has it, iptables random drop where not, as
// here) on both servers' interfaces, in and out: TCP still delivers every byte, later, retransmitting; UDP
// loses what the network loses, within the binomial band of the loss the profile predicts for its path.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { StartedTestContainer } from 'testcontainers';
import { binomialInterval, parseProfile, pathLoss } from '@lab/impairment';
import { DockerImpairer } from '../scripts/docker-impairer.ts';
import { assertNothingLeft, buildLabImage, client, createInternalNetwork, jsonLines, tcpServer, udpRelay } from './support/lab-containers.ts';

interface Report {
  tcp: { identical: boolean; uploadMs: number; downloadMs: number; segments: { out: number; retransmitted: number } | null };
  udp: { modes: { mode: string; receivers: { receiver: number; sent: number; lost: number; duplicates: number }[] }[] };
}

/** Impaired points a datagram crosses: the relay's input, then its output. */
const UDP_HOPS = 2;

describe('the lab under loss (containers)', { timeout: 900_000 }, () => {
  let network: Awaited<ReturnType<typeof createInternalNetwork>> | undefined;
  const started: StartedTestContainer[] = [];
  let impairer: DockerImpairer;
  const reports = new Map<number, Report>();

  before(async () => {
    buildLabImage();
    network = await createInternalNetwork();
    const [server, relay] = await Promise.all([tcpServer(network.name).start(), udpRelay(network.name).start()]);
    started.push(server, relay);
    impairer = await DockerImpairer.create([server.getId(), relay.getId()]);
  });

  after(async () => {
    for (const container of started.reverse()) await container.stop({ timeout: 5, remove: true }).catch(() => {});
    await network?.remove().catch(() => {});
  });

  const runAt = async (lossPercent: number): Promise<Report> => {
    await impairer.apply(parseProfile(`loss ${lossPercent}%`));
    const installed = Object.values(await impairer.readBack()).join('\n');
    if (impairer.backend === 'iptables') {
      // The kernel keeps the probability as a 32-bit fraction and prints it back as such (0.30000000009).
      const installedProbabilities = [...installed.matchAll(/--probability ([\d.]+)/g)].map((m) => Number(m[1]));
      const wanted = lossPercent > 0 ? [lossPercent / 100, lossPercent / 100] : [];
      assert.equal(installedProbabilities.length, wanted.length, installed);
      for (const p of installedProbabilities) assert.ok(Math.abs(p - lossPercent / 100) < 1e-6, installed);
    } else assert.equal(installed.includes(`loss ${lossPercent}%`) || lossPercent === 0, true, installed);
    // One receiver per mode: every receiver is a check that a correct lab fails 1% of the time at most,
    // and receivers of one mode share the sender's and (broadcast, multicast) the relay's drops anyway.
    const builder = client(network!.name, ['--json', '--file-bytes', String(8 * 1024 * 1024), '--receivers', '1', '--datagrams', '2000', '--rate', '2000', '--drain-ms', '1500']);
    try {
      started.push(await builder.start());
    } catch (error) {
      assert.fail(`client failed at ${lossPercent}% loss: ${(error as Error).message}\n${builder.text()}`);
    }
    const report = jsonLines(builder.text()).find((line) => line.schema === 'tcp-udp-lab/experiment') as unknown as Report | undefined;
    assert.ok(report, builder.text());
    reports.set(lossPercent, report);
    return report;
  };

  it('says which backend it uses, and why', () => {
    assert.ok(['netem', 'iptables'].includes(impairer.backend));
    process.stderr.write(`impairment backend: ${impairer.backend} (${impairer.reason})\n`);
  });

  // 30% is left out for now: a 1 MiB transfer at 30% loss in both directions of the server ran into
  // RTO backoff for over two minutes (see the note on issue 5).
  for (const lossPercent of [0, 10]) {
    it(`at ${lossPercent}% loss per hop: TCP delivers every byte; each UDP receiver loses within the 99% band`, async () => {
      const report = await runAt(lossPercent);
      assert.equal(report.tcp.identical, true, 'TCP: the copy is identical');
      const expected = pathLoss(lossPercent / 100, UDP_HOPS);
      for (const mode of report.udp.modes) {
        for (const r of mode.receivers) {
          const [low, high] = binomialInterval(r.sent, expected, 0.99);
          assert.ok(r.lost >= low && r.lost <= high, `${mode.mode} receiver ${r.receiver}: lost ${r.lost} of ${r.sent}, 99% band for ${(expected * 100).toFixed(1)}% is ${low}-${high}`);
          assert.equal(r.duplicates, 0, 'iptables drops, it does not duplicate');
        }
      }
    });
  }

  it('pays for reliability in time: the file takes longer, and segments are retransmitted, under loss', () => {
    // Time for the same 8 MiB up and down, not a sum of rates: one fast direction would hide a slow one.
    const seconds = (loss: number) => (reports.get(loss)!.tcp.uploadMs + reports.get(loss)!.tcp.downloadMs) / 1000;
    assert.ok(seconds(10) > seconds(0), `${seconds(10).toFixed(3)} s at 10% against ${seconds(0).toFixed(3)} s at 0%`);
    // Without loss the kernel may still resend a few (tail loss probes, RFC 8985); under loss, many more.
    const retransmitted = (loss: number) => reports.get(loss)!.tcp.segments?.retransmitted ?? 0;
    assert.ok(retransmitted(10) > retransmitted(0), `${retransmitted(10)} segments retransmitted at 10% against ${retransmitted(0)} at 0%`);
  });

  it('applies a netem profile with delay in both directions where the kernel has netem', async (t) => {
    if (impairer.backend !== 'netem') return t.skip(`no netem here: ${impairer.reason}`);
    await impairer.apply(parseProfile('delay 20ms'));
    const installed = Object.values(await impairer.readBack()).join('\n');
    assert.equal(installed.split('delay 20ms').length - 1 >= 4, true, `egress and ifb ingress on both servers: ${installed}`);
    const builder = client(network!.name, ['--json', '--file-bytes', String(256 * 1024), '--modes', 'unicast', '--receivers', '1', '--datagrams', '200']);
    started.push(await builder.start());
    const report = jsonLines(builder.text()).find((line) => line.schema === 'tcp-udp-lab/experiment') as unknown as { tcp: { connection: { rttMs: number } | null } };
    // 20 ms out of the server and 20 ms into it: a round trip of at least 40 ms, seen by the kernel.
    assert.ok((report.tcp.connection?.rttMs ?? 0) >= 40, JSON.stringify(report.tcp.connection));
    await impairer.apply(parseProfile('none'));
  });

  it('refuses what the backend cannot do, by name', async () => {
    if (impairer.backend === 'netem') return;
    await assert.rejects(impairer.apply(parseProfile('delay 20ms')), { code: 'LAB_ERR_IMPAIRMENT_UNSUPPORTED', message: /delay needs tc netem/ });
  });
});

describe('after the impairment tests', () => {
  it('left no container or test network behind', () => assertNothingLeft());
});
