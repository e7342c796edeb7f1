// Whose a figure is, measured for real: in the user-mode Linux lab (netem on this machine type), a
// stream faster than the guest's one CPU keeps up with makes jitter of the lab's own, larger than what
// netem adds; the sweep's calibration measures it, and the step's jitter is marked the lab's, not shown
// as the network's. At the guest's honest rate the same profile's jitter is the network's, inside its
// band, and an evenly paced stream is not reordered by jitter smaller than its gaps.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { sweepResultSchema, type SweepResult } from '@lab/results';
import { repoRoot } from './support/lab-containers.ts';

const isRoot = process.getuid?.() === 0;

function demo(out: string, args: string[]): { result: SweepResult; stdout: string } {
  const run = spawnSync(process.execPath, ['scripts/demo.ts', '--lab', 'uml', '--modes', 'unicast', '--receivers', '1', '--file-bytes', String(256 * 1024), '--no-ui', '--out', out, ...args], {
    cwd: repoRoot,
    encoding: 'utf8',
  });
  assert.equal(run.status, 0, `${run.stdout}\n${run.stderr}`.slice(-6000));
  const json = readdirSync(out).find((name) => name.endsWith('.json'));
  assert.ok(json, readdirSync(out).join(', '));
  return { result: sweepResultSchema.parse(JSON.parse(readFileSync(join(out, json), 'utf8'))), stdout: run.stdout };
}

describe('whose a figure is, in the user-mode Linux lab', { timeout: 1_200_000, skip: isRoot ? false : 'the user-mode Linux lab runs its namespaces as root' }, () => {
  const folders: string[] = [];
  after(() => {
    for (const folder of folders) rmSync(folder, { recursive: true, force: true });
  });
  const outFolder = () => {
    const folder = mkdtempSync(join(tmpdir(), 'lab-own-share-'));
    folders.push(folder);
    return folder;
  };

  it("marks the jitter of a stream that overloads the guest's CPU as the lab's own, from its calibration, not as the network's", () => {
    // 2500 datagrams a second: ten times what the guest keeps honest. netem's ±1 ms adds about 0.67 ms.
    const { result, stdout } = demo(outFolder(), ['--sweep', 'delay 10ms 1ms', '--rate', '2500', '--datagrams', '2500']);
    assert.ok(result.calibration, 'the sweep measured the lab first');
    const [step] = result.steps;
    const check = step!.udp[0]!;
    const network = check.jitterMs!.mean;
    assert.ok(network > 0.5 && network < 0.8, `netem's own jitter: ${network} ms`);
    assert.ok(check.labOwn!.jitterMs > network, `the calibration's jitter, ${check.labOwn!.jitterMs} ms, is more than netem's ${network}`);
    assert.equal(check.receivers[0]!.verdicts.jitter, 'lab');
    assert.ok(!result.outside.some((line) => /jitter/.test(line)), 'the lab\'s own jitter is not called the network\'s, outside its band');
    assert.match(stdout, /unicast +1 +\d+\/2500 .* ms ~$/m, 'the table marks it ~');
  });

  it("shows the network's jitter at 200 datagrams a second, inside its band, and reorders only what the sender's own bursts explain", () => {
    const { result } = demo(outFolder(), ['--sweep', 'delay 10ms 2ms', '--rate', '200', '--datagrams', '1000']);
    const [step] = result.steps;
    const check = step!.udp[0]!;
    const receiver = check.receivers[0]!;
    const measured = step!.experiment.udp;
    assert.ok(!('error' in measured));
    // Two datagrams 5 ms apart cannot swap under ±2 ms: netem reorders none of an even stream.
    assert.deepEqual(check.outOfOrder!.band99, [0, 0]);
    const reordered = measured.modes[0]!.receivers[0]!.outOfOrder;
    const bursts = step!.pacing.find((p) => p.mode === 'unicast')?.bursts ?? 0;
    assert.ok(reordered <= bursts, `${reordered} reordered, ${bursts} bursts of the sender's in the capture`);
    assert.notEqual(receiver.verdicts.jitter, 'lab', `the lab's own jitter ${check.labOwn!.jitterMs} ms against netem's ${check.jitterMs!.mean}`);
    assert.equal(receiver.verdicts.jitter, 'inside', `jitter ${measured.modes[0]!.receivers[0]!.jitterMs} ms, band ${check.expected.jitterMs.band99}`);
  });
});
