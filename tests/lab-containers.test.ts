// Integration: the three services in their real containers on an internal Docker network, as the lab
// runs them. Needs a Docker engine; scripts/bootstrap.sh (run by `npm test` and again here) provides
// one on Debian as root and builds the image. These tests are never skipped: without Docker they fail.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { StartedTestContainer } from 'testcontainers';
import { experimentReportSchema } from '@lab/results';
import {
  assertNothingLeft,
  buildLabImage,
  client,
  createInternalNetwork,
  jsonLines,
  stopAndInspect,
  tcpServer,
  udpRelay,
  type LabContainer,
} from './support/lab-containers.ts';

interface Report {
  ok: boolean;
  tcp: { name: string; bytes: number; sha256: string; identical: boolean; stored: { sha256: string }; downloaded: { sha256: string; size: number } };
  udp: {
    modes: {
      mode: string;
      attempted: number;
      host: unknown;
      sendErrors: number;
      receivers: { receiver: number; sent: number; received: number; unique: number; lost: number; duplicates: number }[];
    }[];
  };
  chat: { lines: number; tcp: { arrivals: { line: number; kind: string }[]; missing: number[] }; udp: { arrivals: { line: number; kind: string }[]; missing: number[] } };
}

describe('the lab on containers (internal network)', { timeout: 600_000 }, () => {
  let network: Awaited<ReturnType<typeof createInternalNetwork>> | undefined;
  const started: StartedTestContainer[] = [];
  let serverBuilder: LabContainer;
  let relayBuilder: LabContainer;
  let server: StartedTestContainer;
  let relay: StartedTestContainer;

  before(async () => {
    buildLabImage();
    network = await createInternalNetwork();
    serverBuilder = tcpServer(network.name);
    relayBuilder = udpRelay(network.name);
    server = await serverBuilder.start();
    started.push(server);
    relay = await relayBuilder.start();
    started.push(relay);
  });

  after(async () => {
    // Every resource is removed here even when a test failed; Ryuk is not available without a registry.
    for (const container of started.reverse()) await container.stop({ timeout: 5, remove: true }).catch(() => {});
    await network?.remove().catch(() => {});
  });

  const runClient = async (args: string[]): Promise<Report> => {
    const builder = client(network!.name, ['--json', ...args]);
    try {
      started.push(await builder.start());
    } catch (error) {
      assert.fail(`client container failed: ${(error as Error).message}\n${builder.text()}`);
    }
    const report = jsonLines(builder.text()).find((line) => line.schema === 'tcp-udp-lab/experiment');
    assert.ok(report, `no JSON report in the client's output:\n${builder.text()}`);
    // The real output, against the documented contract (docs/experiment-result.schema.json).
    const valid = experimentReportSchema.safeParse(report);
    assert.ok(valid.success, valid.success ? '' : JSON.stringify(valid.error.issues.slice(0, 3)));
    return report as unknown as Report;
  };

  let report: Report;

  it('moves a file over TCP and back, byte for byte (SHA-256 checked on both ends)', async () => {
    report = await runClient(['--file-bytes', String(5 * 1024 * 1024 + 123), '--receivers', '3', '--datagrams', '2000', '--rate', '2000']);
    assert.equal(report.ok, true);
    assert.equal(report.tcp.bytes, 5 * 1024 * 1024 + 123);
    assert.equal(report.tcp.identical, true);
    assert.equal(report.tcp.downloaded.sha256, report.tcp.sha256);
    assert.equal(report.tcp.downloaded.size, report.tcp.bytes);
    // Independent of our code: coreutils' sha256sum on the file the server stored.
    const stored = await server.exec(['sha256sum', `/data/${report.tcp.name}`]);
    assert.equal(stored.exitCode, 0, stored.output);
    assert.equal(stored.output.split(' ')[0], report.tcp.sha256);
    // Nothing half-written is left beside it (temporary files are hidden .part files).
    const listing = await server.exec(['ls', '-A', '/data']);
    assert.deepEqual(listing.output.trim().split('\n'), [report.tcp.name]);
  });

  it('delivers every datagram to each of three receivers in unicast, broadcast and multicast mode (unimpaired)', () => {
    assert.deepEqual(report.udp.modes.map((m) => m.mode), ['unicast', 'broadcast', 'multicast']);
    for (const mode of report.udp.modes) {
      assert.equal(mode.attempted, 2000);
      assert.equal(mode.sendErrors, 0);
      assert.equal(mode.receivers.length, 3);
      for (const r of mode.receivers) {
        assert.deepEqual(
          { mode: mode.mode, unique: r.unique, lost: r.lost, duplicates: r.duplicates },
          { mode: mode.mode, unique: 2000, lost: 0, duplicates: 0 },
          `receiver ${r.receiver}; this host's UDP counters during the run: ${JSON.stringify(mode.host)}`,
        );
      }
    }
  });

  it('carries the chat lines through the TCP server and the relay, every one once and in order (unimpaired)', () => {
    const every = Array.from({ length: report.chat.lines }, (_, i) => `${i + 1} in-order`);
    assert.equal(report.chat.lines, 20);
    for (const side of [report.chat.tcp, report.chat.udp]) {
      assert.deepEqual(side.arrivals.map((arrival) => `${arrival.line} ${arrival.kind}`), every);
      assert.deepEqual(side.missing, []);
    }
  });

  it('refuses bad options with LAB_ERR_CONFIG and a failing exit status', async () => {
    const builder = client(network!.name, ['--datagram-bytes', '8']);
    await assert.rejects(builder.start());
    assert.match(builder.text(), /client: LAB_ERR_CONFIG: invalid --datagram-bytes/);
  });

  it('stops the relay cleanly on SIGTERM, and its counters show one copy per receiver (unicast) or one send (broadcast, multicast)', async () => {
    const { exitCode } = await stopAndInspect(relay);
    started.splice(started.indexOf(relay), 1);
    assert.equal(exitCode, 0);
    const stats = jsonLines(relayBuilder.text()).filter((line) => line.event === 'stats').at(-1);
    assert.ok(stats, relayBuilder.text());
    // 2000 datagrams and 3 end markers per mode: a copy per receiver in unicast, one send otherwise; and
    // the chat's 20 lines to its one listener (unicast).
    assert.equal(stats.forwarded, 2003 * 3 + 2003 + 2003 + 20, JSON.stringify(stats));
    assert.deepEqual(stats.dropped, {});
  });

  it('stops the TCP server cleanly on SIGTERM', async () => {
    const { exitCode } = await stopAndInspect(server);
    started.splice(started.indexOf(server), 1);
    assert.equal(exitCode, 0);
    assert.ok(jsonLines(serverBuilder.text()).some((line) => line.event === 'shutdown'), serverBuilder.text());
  });
});

// Runs after the suite above, its after-hook included.
describe('after the container tests', () => {
  it('left no container or test network behind', () => assertNothingLeft());
});
