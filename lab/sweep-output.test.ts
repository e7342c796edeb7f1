import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { renderSweepSvg, sweepChartSpec, sweepHtml } from './sweep-chart.ts';
import { sweepFixture } from './sweep-fixture.ts';
import { sweepResultSchema } from './sweep-result.ts';
import { formatStep, formatSummary, formatSweep } from './sweep-table.ts';

describe('sweep outputs', () => {
  const result = sweepFixture();

  it('the fixture is a valid result (so these tests test real shapes)', () => {
    sweepResultSchema.parse(result);
  });

  it('prints TCP and UDP side by side, one block per step, every line of a block split at the same column', () => {
    const block = formatStep(result.steps[1]!, 1, 3).split('\n');
    assert.equal(block[0], 'step 2/3: loss 10.0% (profile: loss random 10%), 3.00 s');
    const columns = block.slice(1).map((line) => line.indexOf('│'));
    assert.ok(columns.every((column) => column === columns[0]), block.join('\n'));
    const text = block.join('\n');
    assert.match(text, /upload +1\.0 MiB in 1\.12 s, 7\.5 Mbit\/s/);
    assert.match(text, /data lost 10\.0%; Mathis 49\.8, RFC 5348 0\.\d+/);
    assert.match(text, /data not impaired, its ACKs lost 10\.0%/);
    assert.match(text, /unicast +1 +900\/1000 +10\.0% +10\.0% \(\d+-\d+\)/);
    assert.match(text, /host drops \(receive buffers full, not the network\): 0/);
    assert.match(text, /headers  66 B\/packet on eth0: 14 Ethernet \+ 20 IPv4 \+ 32 TCP/);
    assert.match(text, /headers  42 B\/packet on eth0: 14 Ethernet \+ 20 IPv4 \+ 8 UDP \(textbook: UDP 8, TCP 20-60\)/);
  });

  it('says plainly when TCP did not complete in time', () => {
    assert.match(formatStep(result.steps[2]!, 2, 3), /DID NOT COMPLETE: LAB_ERR_DEADLINE/);
    assert.match(formatSummary(result), /30\.0% +- +28\.8 +0\.048 +- +cut +70\.0 +70\.0 +70\.0/);
  });

  it('summarises the sweep in one table', () => {
    const lines = formatSummary(result).split('\n');
    assert.match(lines[1]!, /loss +TCP up Mbit\/s +Mathis +RFC 5348 +down Mbit\/s +copy +unicast % +multicast % +expected %/);
    assert.match(lines[2]!, /0\.0% +300 +- +- +419 +identical +100\.0 +100\.0 +100\.0/);
    assert.match(formatSweep(result), /a UDP datagram crosses 1 impaired point\b/);
  });

  it('charts UDP delivery inside its band, TCP goodput beside both models, and TCP integrity', async () => {
    const spec = JSON.stringify(sweepChartSpec(result));
    for (const series of ['Mathis model', 'RFC 5348 model', 'upload, measured (data lost)', 'download, measured (ACKs lost)', 'did not complete in time', '"mode":"multicast"']) assert.ok(spec.includes(series), series);
    const svg = await renderSweepSvg(result);
    assert.match(svg, /^<svg/);
    for (const text of ['TCP vs UDP under packet loss', 'UDP: datagrams delivered', 'TCP: the copy that came back', 'loss per impaired point']) assert.ok(svg.includes(text), text);
    const html = sweepHtml(result, svg, formatSweep(result));
    assert.ok(html.includes(svg));
    assert.doesNotMatch(html, /<script|<link/);
  });

  it('charts a sweep of one unimpaired step (the loopback lab) on readable axes, and lists the lab\'s limits', async () => {
    const one = {
      ...result,
      lab: { backend: 'loopback' as const, description: 'local processes on 127.0.0.1', limits: ['not root: no impairment'], skipped: ['the loss steps 10, 30%'] },
      impairment: null,
      steps: [result.steps[0]!],
    };
    const svg = await renderSweepSvg(one);
    // A zero-width domain made Vega print its one tick as "0.000000" and "100.000000".
    assert.doesNotMatch(svg, /\d\.0{5,}/);
    assert.match(svg, />95</);
    const table = formatSweep(one);
    assert.match(table, /^impairment: none: this lab has no network of its own/m);
    assert.match(table, /^limit: not root: no impairment$/m);
    assert.match(table, /^SKIPPED: the loss steps 10, 30%$/m);
  });
});

describe('the documented sweep contract', () => {
  it('docs/sweep-result.schema.json is what the zod schema says (run `npm run schema` after changing it)', async () => {
    const { readFileSync } = await import('node:fs');
    const { sweepResultJsonSchema } = await import('./sweep-result.ts');
    const committed = JSON.parse(readFileSync(new URL('../docs/sweep-result.schema.json', import.meta.url), 'utf8'));
    assert.deepEqual(committed, JSON.parse(JSON.stringify(sweepResultJsonSchema())));
  });
});
