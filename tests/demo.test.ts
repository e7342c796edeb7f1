// The main command, as a newcomer runs it: `npm run demo` must sweep, print the blocks and the summary,
// write the JSON, SVG and HTML, exit 0, and leave no container or network of its Compose project behind.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { sweepResultSchema } from '@lab/results';
import { repoRoot } from './support/lab-containers.ts';

/** IDs of containers or networks whose name contains `name` (Compose prefixes both with the project). */
function dockerList(kind: 'ps' | 'network', name: string): string[] {
  const args = kind === 'ps' ? ['ps', '-a', '-q', '--filter', `name=${name}`] : ['network', 'ls', '-q', '--filter', `name=${name}`];
  const result = spawnSync('docker', args, { encoding: 'utf8' });
  assert.equal(result.status, 0, result.stderr);
  return result.stdout.split('\n').filter(Boolean);
}

function demo(args: string[]) {
  const result = spawnSync('npm', ['run', '--silent', 'demo', '--', ...args], { cwd: repoRoot, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  return { ...result, output: `${result.stdout}\n${result.stderr}` };
}

function assertCleanedUp(): void {
  assert.deepEqual(dockerList('ps', 'tcp-udp-lab-demo'), [], 'containers left behind');
  assert.deepEqual(dockerList('network', 'tcp-udp-lab-demo'), [], 'networks left behind');
}

describe('npm run demo', { timeout: 600_000 }, () => {
  const out = mkdtempSync(join(tmpdir(), 'lab-demo-'));
  after(() => rmSync(out, { recursive: true, force: true }));

  it('sweeps loss on the composed lab, prints a TCP | UDP block per step and a summary, writes JSON, SVG and HTML, and cleans up', () => {
    const result = demo(['--loss', '0,5', '--file-bytes', String(1024 * 1024), '--datagrams', '500', '--out', out, '--logs']);
    assert.equal(result.status, 0, result.output);
    // Progress while it runs (stderr), then the blocks and the summary (stdout).
    assert.match(result.stderr, /impairment backend: (iptables|netem)/);
    assert.match(result.stderr, /step 2\/2: done in/);
    assert.match(result.stdout, /^step 1\/2: loss 0%, [\d.]+ s$/m);
    assert.match(result.stdout, /^step 2\/2: loss 5% \(profile: loss random 5%\)/m);
    assert.match(result.stdout, /TCP: one connection, every byte or nothing +│ UDP: 500 datagrams of 512 B at 2000\/s/);
    assert.equal(result.stdout.match(/sha256 +IDENTICAL both ways/g)?.length, 2, result.stdout);
    for (const mode of ['unicast', 'broadcast', 'multicast']) assert.match(result.stdout, new RegExp(`│ ${mode} +1 +\\d+/500`));
    assert.match(result.stdout, /^ +5 +[\d.]+ +[\d.]+ +[\d.]+ +[\d.]+ +identical/m);
    assert.match(result.stdout, /^sweep: ok$/m);
    // The servers' lifecycle, with --logs: listen, accept, and the relay's counters at shutdown.
    assert.match(result.output, /listening on tcp 0\.0\.0\.0:9000/);
    assert.match(result.output, /accepted \d+\.\d+\.\d+\.\d+:\d+/);
    assert.match(result.output, /udp-relay stats/);

    const files = readdirSync(out).sort();
    assert.deepEqual(files.map((name) => name.replace(/^sweep-\d{8}T\d{6}Z/, 'sweep')), ['sweep-calibration.pcapng', 'sweep-step-1.pcapng', 'sweep-step-2.pcapng', 'sweep.html', 'sweep.json', 'sweep.svg']);
    const [html, json, svg] = files.slice(3).map((name) => readFileSync(join(out, name), 'utf8'));
    const parsed = sweepResultSchema.parse(JSON.parse(json!));
    // The lab measured itself first, and each receiver's figures have their verdicts in the table.
    assert.ok(parsed.calibration && 'file' in parsed.calibration.capture, JSON.stringify(parsed.calibration?.capture).slice(0, 300));
    assert.match(result.stdout, /^calibration: the lab measuring itself, nothing impaired/m);
    assert.match(result.stdout, /│ unicast +1 +\d+\/500 +[\d.]+% [✓!] /);
    assert.match(result.stdout, /^outside their 99% band: /m);
    assert.deepEqual(parsed.steps.map((s) => s.value), [0, 5]);
    assert.equal(parsed.lab.backend, 'containers');
    // Each step's packets, captured from the host in the client container's network namespace.
    for (const step of parsed.steps) {
      const { tcp } = step.experiment;
      assert.ok('file' in step.capture && step.capture.tcp && !('error' in tcp), JSON.stringify(step.capture).slice(0, 300));
      assert.equal(spawnSync('tshark', ['-r', join(out, step.capture.file), '-n', '-q']).status, 0);
      assert.equal(step.capture.tcp.client.port, tcp.localPort);
      assert.equal(step.capture.tcp.server.port, 9000);
      assert.equal(step.capture.tcp.handshake[0]?.flags.join(' '), 'SYN');
    }
    assert.match(svg!, /^<svg[^>]+class="marks"/);
    assert.match(svg!, /UDP: datagrams delivered/);
    // Self-contained: the chart inline, nothing fetched.
    assert.match(html!, /<svg/);
    assert.doesNotMatch(html!, /<script|<link|src="http/);
    assertCleanedUp();
  });

  it('in containers, refuses delay on a kernel without netem with a clear message and exit status 3, and cleans up', (t) => {
    // --lab containers: left to itself (auto), the demo would take the user-mode Linux lab for delay.
    const result = demo(['--lab', 'containers', '--profile', 'delay 20ms', '--loss', '0', '--out', out]);
    if (/impairment backend: netem/.test(result.stderr)) return t.skip('this kernel has netem: delay is applied, not refused');
    assert.equal(result.status, 3, result.output);
    assert.match(result.stderr, /LAB_ERR_IMPAIRMENT_UNSUPPORTED: "delay 20ms": delay needs tc netem, which this kernel does not have/);
    assert.doesNotMatch(result.stderr, /step 1\/1/);
    assertCleanedUp();
  });

  it('refuses a bad option with exit status 2 before starting anything', () => {
    const result = demo(['--loss', '0,abc']);
    assert.equal(result.status, 2, result.output);
    assert.match(result.stderr, /invalid --loss \/ LAB_SWEEP_LOSS/);
  });
});
