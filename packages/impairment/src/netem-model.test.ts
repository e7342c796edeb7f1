import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { corruptionCheck, NetemQdisc, Random, scaledPercent, tableValue } from './netem-model.ts';
import { parseProfile } from './profile.ts';

const check = corruptionCheck(554, 'ingress', 'unicast');

/** Gives `n` packets, spaced `gapMs` apart, to one qdisc; returns what left and when. */
function run(text: string, n: number, { gapMs = 1e6, seed = 1 } = {}) {
  const qdisc = new NetemQdisc(parseProfile(text), new Random(seed));
  const out = [];
  for (let i = 0; i < n; i++) out.push(qdisc.enqueue(i * gapMs, 554, check));
  return { out, qdisc };
}

const share = (values: boolean[]) => values.filter(Boolean).length / values.length;

describe('netem\'s decisions, as sch_netem.c makes them', () => {
  it('scales percentages as tc does (rint(fraction * UINT32_MAX))', () => {
    assert.equal(scaledPercent(100), 0xffffffff);
    assert.equal(scaledPercent(50), 2147483648);
    assert.equal(scaledPercent(0), 0);
  });

  it('drops at random at the rate asked, and a correlation lowers that rate (get_crandom is no longer uniform)', () => {
    const plain = share(run('loss 10%', 100_000).out.map((copies) => copies.length === 0));
    assert.ok(Math.abs(plain - 0.1) < 0.005, String(plain));
    // The kernel's correlated draw concentrates around the middle: `loss 10% 25%` drops about 1.7%.
    const correlated = share(run('loss 10% 25%', 200_000).out.map((copies) => copies.length === 0));
    assert.ok(correlated > 0.014 && correlated < 0.02, String(correlated));
  });

  it('duplicates, and lets a duplicated packet that is lost go on once; the copy meets loss again', () => {
    const { out } = run('duplicate 10% loss 20%', 200_000);
    // P(0) = l (1 - d) = 0.18; P(2) = d (1 - l)^2 = 0.064.
    assert.ok(Math.abs(share(out.map((c) => c.length === 0)) - 0.18) < 0.004);
    assert.ok(Math.abs(share(out.map((c) => c.length === 2)) - 0.064) < 0.003);
  });

  it('runs the Gilbert-Elliott chain: stationary loss (r(1-k) + p(1-h)) / (p + r), in bursts of mean 1/r', () => {
    const { out } = run('loss gemodel 5% 30%', 400_000);
    const lost = out.map((c) => c.length === 0);
    assert.ok(Math.abs(share(lost) - 5 / 35) < 0.005, String(share(lost)));
    let bursts = 0;
    for (let i = 1; i < lost.length; i++) if (lost[i] && !lost[i - 1]) bursts++;
    const meanBurst = lost.filter(Boolean).length / bursts;
    assert.ok(Math.abs(meanBurst - 1 / 0.3) < 0.1, String(meanBurst));
    const partial = share(run('loss gemodel 5% 30% 80% 2%', 400_000).out.map((c) => c.length === 0));
    assert.ok(Math.abs(partial - (0.3 * 0.02 + 0.05 * 0.8) / 0.35) < 0.005, String(partial));
  });

  it('corrupts, and the receiver drops a corruption unless the bit is one nobody checks', () => {
    const { out } = run('corrupt 50%', 100_000);
    const spoiled = share(out.map((c) => c[0]!.spoiled));
    assert.ok(Math.abs(spoiled - 0.5 * (1 - 14 / 554)) < 0.006, String(spoiled));
    assert.equal(corruptionCheck(554, 'egress', 'group').unnoticedBits, 48 + 47);
    assert.equal(corruptionCheck(66, 'egress', 'unicast').unnoticedBits, 48);
  });

  it('delays uniformly over [delay - jitter, delay + jitter) without a table, and by the table\'s quantiles with one', () => {
    const delays = run('delay 20ms 5ms', 20_000).out.map((c, i) => c[0]!.at - i * 1e6);
    assert.ok(Math.min(...delays) >= 15 && Math.max(...delays) < 25);
    assert.ok(Math.abs(delays.reduce((a, b) => a + b, 0) / delays.length - 20) < 0.1);
    assert.ok(Math.abs(tableValue('normal', 0.8413) - 1) < 0.001, 'normal: the jitter is one standard deviation');
    // Statistics of iproute2's own tables (normal.dist, pareto.dist), each 4096 quantiles: means about 0,
    // standard deviations 1.0 and 0.82 of the jitter.
    for (const [distribution, sd] of [['normal', 1], ['pareto', 0.82]] as const) {
      const values = Array.from({ length: 4096 }, (_, i) => tableValue(distribution, (i + 0.5) / 4096));
      const mean = values.reduce((a, b) => a + b, 0) / values.length;
      const spread = Math.sqrt(values.reduce((a, b) => a + (b - mean) ** 2, 0) / values.length);
      assert.ok(Math.abs(mean) < 0.05 && Math.abs(spread - sd) < 0.05, `${distribution}: mean ${mean}, sd ${spread}`);
    }
  });

  it('sends a reordered packet at once, and jitter alone reorders (the queue is ordered by time to send)', () => {
    const { out } = run('delay 10ms reorder 25%', 100_000);
    const immediate = share(out.map((c, i) => c[0]!.at === i * 1e6));
    assert.ok(Math.abs(immediate - 0.25) < 0.005, String(immediate));
  });

  it('queues at the rate, the Ethernet header counted, and drops beyond the limit of 1000 packets', () => {
    // 554 bytes at 1 Mbit/s: 4.432 ms each; sent every millisecond, the queue grows by 0.77 a millisecond.
    const { out, qdisc } = run('rate 1mbit', 3000, { gapMs: 1 });
    const sent = out.filter((c) => c.length > 0);
    assert.ok(Math.abs(sent[1]![0]!.at - sent[0]![0]!.at - 4.432) < 1e-9);
    assert.ok(qdisc.overLimit > 0 && qdisc.overLimit < 3000 - 1000);
    assert.equal(out.findIndex((c) => c.length === 0) > 1000, true, 'the first drop comes once 1000 wait');
  });
});
