// The lab without Docker: as root, the services as local processes in network namespaces joined by a
// bridge, impaired inside the namespaces; without root, on loopback, unimpaired, saying what it skipped.
// Nothing may be left behind: not after a run, not after Ctrl-C, and a SIGKILLed run's leftovers are
// removed by the next start.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { labLinks, labNamespaces, OWNER_FILE, startNetnsLab } from '../lab/netns-lab.ts';
import { sweepResultSchema, type SweepResult, type SweepStep } from '@lab/results';
import { runSweep } from '../lab/sweep.ts';
import { repoRoot } from './support/lab-containers.ts';
import { assertUdpHeadersOnly, insideTestBand, lossPlan } from './support/sweep-checks.ts';
import { LAB_UID } from '@lab/runtime';

const isRoot = process.getuid?.() === 0;

function assertNothingLeft(): void {
  assert.deepEqual(labNamespaces(), [], 'network namespaces left behind');
  assert.deepEqual(labLinks(), [], 'links left behind');
  assert.deepEqual(readdirSync(tmpdir()).filter((name) => name.startsWith('tcpudplab-')), [], 'folders left behind');
  assert.equal(existsSync(OWNER_FILE), false, `${OWNER_FILE} left behind`);
}

/** Starts the demo and resolves with its child once its progress shows `line`. */
function demoUntil(args: string[], line: RegExp) {
  const child = spawn(process.execPath, ['scripts/demo.ts', ...args], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  const seen = new Promise<void>((resolve, reject) => {
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      if (line.test(stderr)) resolve();
    });
    child.once('exit', (code) => reject(new Error(`the demo exited (${code}) before ${line}: ${stderr}`)));
  });
  return { child, seen, stderr: () => stderr };
}

describe('the local lab in network namespaces (root)', { timeout: 600_000, skip: isRoot ? false : 'needs root: network namespaces' }, () => {
  let result: SweepResult;

  it('sweeps 0% and 10% loss: every mode delivers across the bridge, TCP copies are identical, UDP loss is in its band', async (t) => {
    // Each step's capture (and the calibration's): how evenly each stream left is read from it.
    const captures = mkdtempSync(join(tmpdir(), 'lab-local-captures-'));
    t.after(() => rmSync(captures, { recursive: true, force: true }));
    const lab = await startNetnsLab(repoRoot);
    try {
      assert.deepEqual(labNamespaces().sort(), ['tcpudplab-client', 'tcpudplab-switch', 'tcpudplab-tcp-server', 'tcpudplab-udp-relay']);
      // A second start would tear this lab down (the names are fixed): it is refused, and this one lives on.
      await assert.rejects(startNetnsLab(repoRoot), { code: 'LAB_ERR_LAB_IN_USE' });
      assert.equal(labNamespaces().length, 4);
      result = await runSweep(
        lab,
        {
          plan: lossPlan([0, 10]),
          direction: 'in',
          fileBytes: 1024 * 1024,
          tcpDeadlineMs: 0,
          datagrams: 2000,
          datagramBytes: 512,
          rate: 2000,
          receivers: 2,
          modes: ['unicast', 'broadcast', 'multicast'],
          captureFile: (step) => join(captures, `sweep-${step}.pcapng`),
        },
        (line) => process.stderr.write(`${line}\n`),
      );
    } finally {
      await lab.close();
    }
    sweepResultSchema.parse(JSON.parse(JSON.stringify(result)));
    assert.equal(result.lab.backend, 'namespaces');
    assert.ok(result.impairment && ['iptables', 'netem'].includes(result.impairment.backend));
    assert.equal(result.steps.length, 2);
    const [clean, lossy] = result.steps as [SweepStep, SweepStep];
    for (const step of [clean, lossy]) {
      const { tcp, udp } = step.experiment;
      assert.ok(!('error' in tcp) && tcp.identical, JSON.stringify(tcp));
      assert.ok(!('error' in udp), JSON.stringify(udp));
      assert.deepEqual(udp.modes.map((m) => m.mode), ['unicast', 'broadcast', 'multicast']);
      assertUdpHeadersOnly(step);
    }
    const cleanUdp = clean.experiment.udp;
    assert.ok(!('error' in cleanUdp));
    for (const mode of cleanUdp.modes) for (const r of mode.receivers) assert.equal(r.unique, 2000, `${mode.mode} receiver ${r.receiver} at 0%`);
    for (const mode of lossy.udp) for (const r of mode.receivers) assert.ok(insideTestBand(r.lost, r.lostBand99), `${mode.mode} receiver ${r.receiver}: lost ${r.lost}, band ${r.lostBand99.join('-')}`);
    assert.match(Object.values(lossy.installed).join('\n'), /probability 0\.1|loss 10%/);
    // The lab measured itself first, nothing impaired, and every figure says whose it is: iptables adds
    // no jitter, so each receiver's is the lab's own; its loss at 10% is the network's.
    assert.ok(result.calibration && !('error' in result.calibration.experiment.udp), JSON.stringify(result.calibration?.experiment.udp).slice(0, 300));
    for (const mode of lossy.udp) {
      assert.ok(mode.labOwn, `${mode.mode}: the calibration's figures`);
      for (const r of mode.receivers) {
        assert.equal(r.verdicts.jitter, 'lab', `${mode.mode} receiver ${r.receiver}`);
        assert.notEqual(r.verdicts.lost, 'lab', `${mode.mode} receiver ${r.receiver}`);
      }
    }
    // The capture says how evenly each stream left: about the nominal 0.5 ms apart at 2000/s.
    for (const pacing of lossy.pacing) assert.ok(Math.abs(pacing.p50 - 0.5) < 0.1, JSON.stringify(pacing));
    assert.deepEqual(lossy.pacing.map((p) => p.mode), ['unicast', 'broadcast', 'multicast']);
  });

  it('left nothing behind after the run', () => assertNothingLeft());

  for (const [signal, status, what] of [['SIGINT', 130, 'interrupted (Ctrl-C)'], ['SIGTERM', 143, 'terminated (kill)']] as const) {
    it(`takes everything down when the demo is ${what} mid-experiment`, async () => {
      const demo = demoUntil(['--lab', 'namespaces', '--loss', '0,10', '--file-bytes', String(8 * 1024 * 1024), '--out', tmpdir()], /step 1\/2: loss 0%/);
      await demo.seen;
      assert.ok(labNamespaces().length > 0, 'the lab is up');
      const exited = new Promise<number | null>((resolve) => demo.child.once('exit', resolve));
      demo.child.kill(signal);
      assert.equal(await exited, status, demo.stderr());
      assertNothingLeft();
    });
  }

  it('removes what a killed (SIGKILL) run left behind at the next start', async () => {
    const demo = demoUntil(['--lab', 'namespaces', '--loss', '0', '--file-bytes', String(8 * 1024 * 1024), '--out', tmpdir()], /step 1\/1: loss 0%/);
    await demo.seen;
    const exited = new Promise((resolve) => demo.child.once('exit', resolve));
    demo.child.kill('SIGKILL');
    await exited;
    assert.ok(labNamespaces().length > 0, 'a SIGKILLed run cannot clean up: its namespaces are still there');
    const lab = await startNetnsLab(repoRoot);
    assert.deepEqual(labNamespaces().length, 4, 'the next start removed the old lab and built a fresh one');
    await lab.close();
    assertNothingLeft();
  });
});

describe('the local lab on loopback (not root)', { timeout: 300_000, skip: isRoot ? false : 'runs the demo as uid 10001 with setpriv, which needs root to start' }, () => {
  const out = mkdtempSync(join(tmpdir(), 'lab-loopback-out-'));
  after(() => rmSync(out, { recursive: true, force: true }));

  it('runs the unimpaired experiment as an unprivileged user and says what it skipped', () => {
    chownSync(out, LAB_UID, LAB_UID);
    const result = spawnSync(
      'setpriv',
      [`--reuid=${LAB_UID}`, `--regid=${LAB_UID}`, '--clear-groups', process.execPath, 'scripts/demo.ts', '--file-bytes', String(1024 * 1024), '--datagrams', '500', '--out', out],
      { cwd: repoRoot, encoding: 'utf8', env: { PATH: process.env.PATH, HOME: out } },
    );
    const output = `${result.stdout}\n${result.stderr}`;
    assert.equal(result.status, 0, output);
    assert.match(result.stderr, /lab: loopback \(no Docker engine answers and this is not root/);
    assert.match(result.stdout, /^SKIPPED: the loss steps 1%, 5%, 10%, 20%, 30%: impairing the network needs root/m);
    assert.match(result.stdout, /^SKIPPED: UDP broadcast and multicast: it needs a network of its own/m);
    assert.match(result.stdout, /^impairment: none: this lab has no network of its own/m);
    assert.match(result.stdout, /^limit: not root: no network namespaces/m);
    assert.match(result.stdout, /headers +not measured/);
    assert.match(result.stdout, /sha256 +IDENTICAL both ways/);
    assert.match(result.stdout, /unicast +1 +500\/500/);
    const json = readdirSync(out).find((name) => name.endsWith('.json'))!;
    const parsed = sweepResultSchema.parse(JSON.parse(readFileSync(join(out, json), 'utf8')));
    assert.equal(parsed.lab.backend, 'loopback');
    assert.equal(parsed.impairment, null);
    assert.deepEqual(parsed.steps.map((s) => s.value), [0]);
    assert.equal(parsed.lab.skipped.length, 2);
    assert.match(result.stdout, /^limit: no packet capture: the client has no interface of its own here/m);
    assert.deepEqual(parsed.steps.map((step) => 'unavailable' in step.capture && step.capture.unavailable.startsWith('no packet capture')), [true]);
    assert.deepEqual(readdirSync(out).filter((name) => name.endsWith('.pcapng')), []);
    // The chat's lines all came at once here; nothing of the client (the TCP chat's 10-s time limit once
    // did) may keep it alive after its result: the step is a few seconds, not ten more.
    const chat = parsed.steps[0]!.experiment.chat;
    assert.ok(chat && !('error' in chat) && chat.tcp.missing.length === 0 && chat.udp.missing.length === 0, JSON.stringify(chat).slice(0, 300));
    assert.ok(parsed.steps[0]!.durationMs < 9000, `the step took ${parsed.steps[0]!.durationMs} ms`);
    assert.deepEqual(readdirSync(tmpdir()).filter((name) => name.startsWith('tcpudplab-loopback-')), [], 'data folder removed');
  });
});
