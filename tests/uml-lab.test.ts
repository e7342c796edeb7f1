// The lab in a user-mode Linux kernel, as a newcomer meets it: on a host whose kernel has no netem (these
// build machines), `npm run demo -- --sweep "delay …"` boots it by itself, every delay is really applied
// (the kernel's RTT says so), and nothing is left on the host afterwards: no kernel process, no
// namespace, no file in /run/netns or /var/log/wtmp, no exchange folder; not after the end, not after
// Ctrl-C or SIGTERM, and what a SIGKILL leaves (only its exchange folder) goes at the next start. And it
// runs from a clone under /tmp, whose path the guest's own /tmp would hide.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { hostHasNetem } from '../lab/netem-probe.ts';
import { sweepResultSchema } from '@lab/results';
import { EXCHANGE_BASE } from '../lab/uml-kernel.ts';
import { EXCHANGE_PREFIX } from '../lab/uml-lab.ts';
import { copyCheckout } from './support/checkout-copy.ts';
import { repoRoot } from './support/lab-containers.ts';

const isRoot = process.getuid?.() === 0;
const kernelHasNetem = hostHasNetem().netem;

/** Processes of user-mode Linux kernels (the kernel and the host processes it forks all run linux.uml). */
function umlProcesses(): string[] {
  const run = spawnSync('pgrep', ['-a', '-f', '^/usr/bin/linux.uml'], { encoding: 'utf8' });
  return run.stdout.split('\n').filter(Boolean);
}

const netnsFiles = () => (existsSync('/run/netns') ? readdirSync('/run/netns') : []);
const wtmp = () => (existsSync('/var/log/wtmp') ? statSync('/var/log/wtmp').size : -1);

const exchanges = () => readdirSync(EXCHANGE_BASE).filter((name) => name.startsWith(EXCHANGE_PREFIX));

function assertNothingLeft(before: { netns: string[]; wtmp: number }): void {
  assert.deepEqual(umlProcesses(), [], 'no user-mode Linux process may outlive the demo');
  assert.deepEqual(netnsFiles(), before.netns, 'nothing new in the host\'s /run/netns');
  assert.equal(wtmp(), before.wtmp, 'nothing new in /var/log/wtmp');
  assert.deepEqual(exchanges(), [], 'no exchange folder left');
  assert.deepEqual(readdirSync(tmpdir()).filter((name) => name.startsWith('tcpudplab')), [], 'nothing of the lab in the host\'s /tmp');
}

/** Starts the demo and resolves once its progress shows `line`. */
function demoUntil(args: string[], line: RegExp) {
  const child = spawn(process.execPath, ['scripts/demo.ts', ...args], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code, signal) => resolve(code ?? (signal ? -1 : null))));
  const seen = new Promise<void>((resolve, reject) => {
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      if (line.test(stderr)) resolve();
    });
    child.once('exit', (code) => reject(new Error(`the demo exited (${code}) before ${line}: ${stderr}`)));
  });
  return { child, seen, exited, stderr: () => stderr };
}

const small = ['--lab', 'uml', '--modes', 'unicast', '--receivers', '1', '--datagrams', '200', '--file-bytes', String(256 * 1024)];

describe('the lab in a user-mode Linux kernel', { timeout: 1_200_000, skip: isRoot ? false : 'runs the demo as root, as a newcomer on these machines does' }, () => {
  // Under the checkout's results/, as the default --out is.
  mkdirSync(join(repoRoot, 'results'), { recursive: true });
  const out = mkdtempSync(join(repoRoot, 'results', 'test-uml-'));
  let state: { netns: string[]; wtmp: number };
  before(() => {
    state = { netns: netnsFiles(), wtmp: wtmp() };
  });
  const copies: string[] = [];
  after(() => {
    rmSync(out, { recursive: true, force: true });
    for (const copy of copies) rmSync(copy, { recursive: true, force: true });
  });

  it('npm run demo -- --sweep "delay 0ms,20ms,100ms" from a clone under /tmp with spaces in its path: every delay really applied (the kernel\'s RTT), every TCP copy identical, exit 0', () => {
    // People clone into /tmp, which the guest mounts afresh: it must show the checkout there at its own
    // path. A copy of this one, wherever the tests run from, with a results folder of its own.
    const clone = copyCheckout(tmpdir(), 'lab uml clone ');
    copies.push(clone);
    const results = join(clone, 'my results');
    // As a newcomer types it, with a shorter stream (the user-mode kernel is slow).
    const run = spawnSync('npm', ['run', '--silent', 'demo', '--', '--sweep', 'delay 0ms,20ms,100ms', '--datagrams', '400', '--out', results], { cwd: clone, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    const output = `${run.stdout}\n${run.stderr}`;
    assert.equal(run.status, 0, output.slice(-6000));
    if (!kernelHasNetem) assert.match(run.stderr, /^demo: lab: uml \(delay needs tc netem, which this kernel does not have/m);
    const json = readdirSync(results).find((name) => name.endsWith('.json'));
    assert.ok(json, readdirSync(results).join(', '));
    const result = sweepResultSchema.parse(JSON.parse(readFileSync(join(results, json), 'utf8')));
    assert.equal(result.impairment?.backend, 'netem');
    if (!kernelHasNetem) {
      assert.equal(result.lab.backend, 'uml');
      assert.match(result.lab.description, /run on the host as uid 65534 \(nobody\)/, 'the kernel runs unprivileged');
    }
    assert.deepEqual(result.steps.map((step) => step.value), [0, 20, 100]);
    for (const step of result.steps) {
      const { tcp } = step.experiment;
      assert.ok(!('error' in tcp) && tcp.identical, JSON.stringify(tcp).slice(0, 300));
      // The delay is on the way into the TCP server: once per round trip.
      const idle = tcp.idleRttMs!;
      assert.ok(Math.abs(idle - step.value) <= Math.max(2, 0.2 * step.value), `at ${step.label}: the kernel's RTT ${idle} ms`);
      assert.equal(step.tcp.rttWithinTolerance, true, `at ${step.label}: ${idle} ms against ${step.tcp.expectedRttMs}`);
      assert.match(Object.values(step.installed).join('\n'), step.value > 0 ? new RegExp(`delay ${step.value}ms`) : /ingress/);
      // The guest captured the step, and the capture came out with the results: the SYN-ACK comes back
      // the path's delay after the SYN, as the ladder shows it.
      assert.ok('file' in step.capture && step.capture.tcp, JSON.stringify(step.capture).slice(0, 300));
      const read = spawnSync('tshark', ['-r', join(results, step.capture.file), '-n', '-q'], { encoding: 'utf8' });
      assert.equal(read.status, 0, read.stderr);
      const [syn, synAck] = step.capture.tcp.handshake;
      assert.equal(step.capture.tcp.client.port, tcp.localPort);
      const handshakeMs = synAck!.ms - syn!.ms;
      assert.ok(Math.abs(handshakeMs - step.value) <= Math.max(2, 0.2 * step.value), `at ${step.label}: SYN to SYN-ACK ${handshakeMs} ms`);
    }
    assert.match(run.stdout, /^sweep of delay 0ms,20ms,100ms: /m);
    assertNothingLeft(state);
  });

  for (const [signal, status] of [['SIGINT', 130], ['SIGTERM', 143]] as const) {
    it(`takes the guest down at once when the demo gets ${signal} mid-measurement, and leaves nothing`, async () => {
      // The calibration is the sweep's first measurement: the lab is up and the client is at work.
      const demo = demoUntil([...small, '--sweep', 'delay 0ms,20ms', '--out', out], /calibration: the lab measures itself/);
      await demo.seen;
      assert.ok(umlProcesses().length > 0, 'the guest runs');
      demo.child.kill(signal);
      assert.equal(await demo.exited, status, demo.stderr());
      assertNothingLeft(state);
    });
  }

  it('leaves no kernel process when the demo is SIGKILLed; its exchange folder goes at the next start', async () => {
    const demo = demoUntil([...small, '--sweep', 'delay 0ms,20ms', '--out', out], /calibration: the lab measures itself/);
    await demo.seen;
    demo.child.kill('SIGKILL');
    await demo.exited;
    // The kernel's parent dies with the demo (PR_SET_PDEATHSIG), and its PID namespace with it.
    for (let i = 0; i < 50 && umlProcesses().length > 0; i++) await new Promise((resolve) => setTimeout(resolve, 100));
    assert.deepEqual(umlProcesses(), []);
    assert.equal(exchanges().length, 1, 'a killed demo cannot remove its exchange folder');
    const next = spawnSync(process.execPath, ['scripts/demo.ts', ...small, '--sweep', 'delay 5ms', '--out', out], { cwd: repoRoot, encoding: 'utf8' });
    assert.equal(next.status, 0, `${next.stdout}\n${next.stderr}`.slice(-4000));
    assertNothingLeft(state);
  });
});
