// Inside a kernel that has netem: the sweep of every impairment through the namespaces lab, each
// measured against what netem's own algorithm predicts for it (each count inside its band, widened to
// about 99.9% for a suite of dozens of checks: see insideTestBand). Run by tests/netem-kernel.test.ts, as
// root, never by the host's glob: one lab for every sweep, to keep the guest's one CPU busy with packets.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { parseProfile, type Direction } from '@lab/impairment';
import type { DeliveryMode } from '@lab/protocol';
import type { Lab } from '../../lab/lab.ts';
import { startNetnsLab } from '../../lab/netns-lab.ts';
import { parseSweep, planSweep } from '../../lab/sweep-plan.ts';
import { sweepResultSchema, type SweepResult, type SweepStep } from '@lab/results';
import { runSweep } from '../../lab/sweep.ts';
import { stepOk } from '../../lab/step-analysis.ts';
import { umlLabTraits } from '../../lab/uml-lab.ts';
import { repoRoot } from '../support/lab-containers.ts';
import { assertUdpHeadersOnly, insideTestBand } from '../support/sweep-checks.ts';

let lab: Lab;

async function sweep(
  text: string,
  { profile = '', direction = 'in' as Direction, modes = ['unicast', 'broadcast', 'multicast'] as DeliveryMode[], datagrams = 1000, receivers = 1, fileBytes = 512 * 1024, tcpDeadlineMs = 0 } = {},
): Promise<SweepResult> {
  const fixed = parseProfile(profile);
  const result = await runSweep(
    lab,
    // No chat part and no calibration: these sweeps check netem's figures against the network's part alone
    // (each count inside its band), and every second counts in the user-mode kernel.
    { plan: planSweep(parseSweep(text), fixed), direction, fileBytes, tcpDeadlineMs, datagrams, datagramBytes: 512, rate: 250, receivers, modes, chatLines: 0, calibrate: false },
    (line) => process.stderr.write(`${line}\n`),
  );
  sweepResultSchema.parse(JSON.parse(JSON.stringify(result)));
  assert.equal(result.impairment?.backend, 'netem');
  return result;
}

function assertTcpIdentical(step: SweepStep): void {
  const { tcp } = step.experiment;
  assert.ok(!('error' in tcp) && tcp.identical, `TCP at ${step.label}: ${JSON.stringify(tcp).slice(0, 400)}`);
}

function receivers(step: SweepStep) {
  return step.udp.flatMap((mode) => mode.receivers.map((r) => ({ mode: mode.mode, ...r, expectedLossPercent: mode.expectedLossPercent })));
}

describe('sweeps on a kernel that has netem', { timeout: 1_200_000 }, () => {
  before(async () => {
    lab = await startNetnsLab(repoRoot, { ...umlLabTraits(), kernel: 'the kernel under test' });
  });
  after(async () => lab?.close());

  it('duplicate 10%: each receiver gets its duplicates inside the 99% band, nothing lost, TCP identical', async () => {
    const [step] = (await sweep('duplicate 10%', { datagrams: 600 })).steps as [SweepStep];
    assertTcpIdentical(step);
    for (const r of receivers(step)) {
      assert.ok(insideTestBand(r.duplicates, r.duplicatesBand99), `${r.mode}: ${r.duplicates} duplicates, band ${r.duplicatesBand99.join('-')}`);
      assert.equal(r.lost, 0, r.mode);
    }
    assertUdpHeadersOnly(step);
  });

  it('corrupt 5%: a corrupted datagram fails its checksum: loss inside the band of the loss it causes, TCP identical', async () => {
    const [step] = (await sweep('corrupt 5%', { datagrams: 600 })).steps as [SweepStep];
    assertTcpIdentical(step);
    for (const r of receivers(step)) {
      assert.ok(Math.abs(r.expectedLossPercent - 5 * (1 - 14 / 554)) < 1e-9);
      assert.ok(insideTestBand(r.lost, r.lostBand99), `${r.mode}: lost ${r.lost}, band ${r.lostBand99.join('-')}`);
    }
  });

  it('loss gemodel 5% 30%: loss in bursts, inside the band of its stationary rate (1/7; more for broadcast, whose own copies pass the relay\'s way in); TCP identical, or cut at its time limit', async () => {
    // Bursts of three lost segments in a row put TCP into timeout backoff: a small file, and a time limit.
    const [step] = (await sweep('loss gemodel 5% 30%', { fileBytes: 128 * 1024, tcpDeadlineMs: 30_000 })).steps as [SweepStep];
    assert.ok(stepOk(step), JSON.stringify(step.experiment.tcp).slice(0, 400));
    for (const r of receivers(step)) {
      if (r.mode !== 'broadcast') assert.ok(Math.abs(r.expectedLossPercent - 100 / 7) < 1, String(r.expectedLossPercent));
      else assert.ok(r.expectedLossPercent > 18, String(r.expectedLossPercent));
      assert.ok(insideTestBand(r.lost, r.lostBand99), `${r.mode}: lost ${r.lost}, band ${r.lostBand99.join('-')}`);
    }
  });

  it('reorder 0%, 10%, 25% with delay 10ms: more datagrams out of order at every step, as netem predicts; TCP identical', async () => {
    // A datagram counts as out of order when a later one, sent at once by netem, overtook it while it
    // waited its 10 ms: about (1 - p) * (1 - (1 - p)^k) of them, k = 2 at 250/s (the two sent 4 and 8 ms
    // later). That peaks near p = 40%: at 25% and 50% the model expects 327 and 375 of 1000 with 99% bands
    // that overlap (290-359, 346-401), so a rise between them is not what netem promises; at 10% it
    // expects 170 (130-205), well apart from 25%.
    const result = await sweep('reorder 0%,10%,25%', { profile: 'delay 10ms', modes: ['unicast'] });
    const outOfOrder = result.steps.map((step) => {
      assertTcpIdentical(step);
      const { udp } = step.experiment;
      assert.ok(!('error' in udp));
      return udp.modes[0]!.receivers[0]!.outOfOrder;
    });
    assert.ok(outOfOrder[0]! < outOfOrder[1]! && outOfOrder[1]! < outOfOrder[2]!, String(outOfOrder));
    for (const [i, step] of result.steps.entries()) {
      const expected = step.udp[0]!.outOfOrder;
      if (i === 0) continue;
      assert.ok(expected, 'reordering is expected');
      // Reordering depends on when each datagram is sent: the guest's pacing is not netem's, so the
      // check is the expected count within half of it either way, not the simulated band.
      assert.ok(Math.abs(outOfOrder[i]! - expected.mean) <= expected.mean / 2, `${step.label}: ${outOfOrder[i]} out of order, netem expects ${expected.mean.toFixed(0)}`);
    }
  });

  it('--direction out: the download\'s data and the relay\'s copies out meet the loss; the sweep completes, UDP inside its band', async () => {
    const result = await sweep('loss 0%,10%', { direction: 'out', datagrams: 500 });
    const lossy = result.steps[1]!;
    assert.ok(lossy.tcp.download.dataLossPercent > 9 && lossy.tcp.upload.dataLossPercent === 0);
    for (const step of result.steps) assertTcpIdentical(step);
    for (const r of receivers(lossy)) assert.ok(insideTestBand(r.lost, r.lostBand99), `${r.mode}: lost ${r.lost}, band ${r.lostBand99.join('-')}`);
  });

  it('--direction both: a datagram is duplicated on its way in and on its way out; the sweep completes, duplicates inside their band', async () => {
    const result = await sweep('duplicate 0%,10%', { direction: 'both', datagrams: 500, receivers: 2 });
    const doubled = result.steps[1]!;
    assert.ok(Math.abs(doubled.udp[0]!.expectedDuplicatePercent - 21) < 1e-9, '(1.1)^2 - 1 extra copies');
    for (const step of result.steps) assertTcpIdentical(step);
    for (const r of receivers(doubled)) assert.ok(insideTestBand(r.duplicates, r.duplicatesBand99), `${r.mode}: ${r.duplicates} duplicates, band ${r.duplicatesBand99.join('-')}`);
  });

  it('rate 10mbit, 500kbit: TCP stays under what the rate lets through, and UDP loses what the relay\'s queue cannot hold', async () => {
    const result = await sweep('rate 10mbit,500kbit', { direction: 'out', modes: ['unicast'], datagrams: 1000, receivers: 2 });
    for (const step of result.steps) {
      assertTcpIdentical(step);
      const limit = step.tcp.download.rateLimitMbitPerS!;
      assert.ok(step.tcp.download.measuredMbitPerS! <= limit * 1.05, `${step.label}: download ${step.tcp.download.measuredMbitPerS} Mbit/s, the rate lets through ${limit}`);
    }
    // Out of the relay, unicast sends a copy per receiver: 2 x 250 datagrams of 554 bytes a second is
    // 2.2 Mbit/s, more than 0.5 Mbit/s; once 1000 copies wait, the queue drops (netem's limit).
    const slow = result.steps[1]!;
    for (const r of receivers(slow)) {
      assert.ok(r.expectedLossPercent > 10, String(r.expectedLossPercent));
      assert.ok(insideTestBand(r.lost, r.lostBand99), `lost ${r.lost}, band ${r.lostBand99.join('-')}`);
    }
  });
});
