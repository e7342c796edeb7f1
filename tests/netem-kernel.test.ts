// The netem tests (tests/netem-kernel/*.netem.ts: every profile word in every direction, and a sweep of
// every impairment against what netem predicts) need a kernel with sch_netem. They run where one is: this
// host's own kernel when it has netem and this is root; otherwise inside the user-mode Linux lab's guest
// kernel (lab/uml-kernel.ts), as on these build machines, whose kernel has none. Never skipped: without
// either, this test fails and says what is missing.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { hostHasNetem } from '../lab/netem-probe.ts';
import { findUmlKernel, guestProcesses, runInGuest } from '../lab/uml-kernel.ts';
import { repoRoot } from './support/lab-containers.ts';

const suites = readdirSync(join(repoRoot, 'tests/netem-kernel'))
  .filter((name) => name.endsWith('.netem.ts'))
  .sort()
  .map((name) => join(repoRoot, 'tests/netem-kernel', name));

/** The totals node's spec reporter prints last ("ℹ tests 12" …). */
function totals(output: string): Record<string, number> {
  return Object.fromEntries([...output.matchAll(/^ℹ (tests|pass|fail|cancelled|skipped|todo) (\d+)$/gm)].map((m) => [m[1]!, Number(m[2])]));
}

describe('netem on a kernel that has it', { timeout: 1_800_000 }, () => {
  const exchange = mkdtempSync(join(tmpdir(), 'lab-netem-kernel-'));
  after(() => rmSync(exchange, { recursive: true, force: true }));

  it(`runs ${suites.map((suite) => suite.split('/').at(-1)).join(' and ')} on a real netem kernel, every test passing, none skipped`, async () => {
    const argv = [process.execPath, '--test', '--test-concurrency=1', '--test-reporter=spec', ...suites];
    const isRoot = process.getuid?.() === 0;
    const host = hostHasNetem();
    let output: string;
    let status: number | null;
    if (isRoot && host.netem) {
      process.stderr.write('netem tests: on this host\'s own kernel, which has netem\n');
      const run = spawnSync(argv[0]!, argv.slice(1), { cwd: repoRoot, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
      output = run.stdout;
      status = run.status;
    } else {
      assert.ok(findUmlKernel(), `this kernel has no netem (${host.evidence}) and no user-mode Linux kernel is installed: run scripts/bootstrap.sh (Debian as root: apt-get install user-mode-linux kmod gcc)`);
      process.stderr.write(`netem tests: inside a user-mode Linux kernel (this kernel: ${host.evidence})\n`);
      const run = await runInGuest({
        argv,
        env: { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin' },
        cwd: repoRoot,
        exchange,
        root: repoRoot,
        timeoutMs: 1_500_000,
        onStderrLine: (line) => {
          process.stderr.write(`guest: ${line}\n`);
        },
      });
      output = `${run.stdout}\n${run.stderr}`;
      status = run.status;
      assert.deepEqual(guestProcesses(exchange), [], 'the guest left processes behind');
      assert.notEqual(status, null, `the guest ended without the tests' status: ${run.console.slice(-2000)}`);
    }
    const counted = totals(output);
    assert.equal(status, 0, output.slice(-12_000));
    assert.ok((counted.tests ?? 0) >= 10 && counted.pass === counted.tests, JSON.stringify(counted));
    assert.equal(counted.skipped ?? 0, 0, 'nothing may be skipped on a netem kernel');
  });
});
