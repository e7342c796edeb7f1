import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { renderSweepSvg, sweepChartSpec, sweepHtml } from './sweep-chart.ts';
import { delaySweepFixture, sweepFixture } from './fixtures/sweep-fixture.ts';
import { sweepResultJsonSchema, sweepResultSchema } from '@lab/results';
import { formatStep, formatSummary, formatSweep } from './sweep-table.ts';

describe('sweep outputs', () => {
  const result = sweepFixture();

  it('the fixture is a valid result (so these tests test real shapes)', () => {
    sweepResultSchema.parse(result);
  });

  it('prints TCP and UDP side by side, one block per step, every line of a block split at the same column', () => {
    const block = formatStep(result.steps[1]!, 1, 3, 'loss').split('\n');
    assert.equal(block[0], 'step 2/3: loss 10% (profile: loss random 10%), 3.00 s');
    // Under the two columns: the chat contrast and the packets, each on lines of their own.
    const under = (line: string) => /^ {2}(chat|packets) |^ {11}(TCP|UDP) /.test(line);
    const columns = block.slice(1).filter((line) => !under(line)).map((line) => line.indexOf('│'));
    assert.ok(columns.every((column) => column === columns[0]), block.join('\n'));
    const text = block.join('\n');
    assert.match(text, /upload +1\.0 MiB in 1\.12 s, 7\.5 Mbit\/s/);
    assert.match(text, /data: loss random 10% \(10\.0% lost\)/);
    assert.match(text, /models: Mathis 49\.8, RFC 5348 0\.\d+/);
    assert.match(text, /download[^\n]*\n +data: not impaired +│[^\n]*\n +ACKs: loss random 10% \(10\.0% lost\)/);
    // Each figure with its mark: lost inside its band, jitter the lab's own (a loss step adds no jitter).
    assert.match(text, /unicast +1 +900\/1000 +10\.0% ✓ +10\.0% \(76-125\) +0 ✓ \(0\) +0 ✓ +0 ✓ +0\.050 ms ~/);
    assert.match(text, /the lab's own: reordered 0, late 0, jitter 0\.05 ms \(up to 0\.05\), lost 0/);
    assert.match(text, /kernel   rtt 0\.90 ms idle, 0\.90 ms loaded/);
    assert.match(text, /host drops \(receive buffers full, not the network\): 0/);
    assert.match(text, /headers  66 B\/packet on eth0: 14 Ethernet \+ 20 IPv4 \+ 32 TCP/);
    assert.match(text, /headers  42 B\/packet on eth0: 14 Ethernet \+ 20 IPv4 \+ 8 UDP \(textbook: UDP 8, TCP 20-60\)/);
    // Every step's block splits at the same column, so that a sweep reads down the page.
    const splits = result.steps.flatMap((step, i) => formatStep(step, i, 3, 'loss').split('\n').slice(1).filter((line) => !under(line)).map((line) => line.indexOf('│')));
    assert.ok(splits.every((column) => column === splits[0]), String(splits));
    assert.deepEqual(block.filter(under), [
      '  chat     5 numbered lines, one every 50 ms, through both at once:',
      '           TCP 5 of 5 lines, every one once and in order; slowest 205 ms after it was sent',
      '           UDP 4 of 5 lines, 1 never came (3), 1 out of order; slowest 52 ms after it was sent',
    ]);
  });

  it('says plainly when TCP did not complete in time', () => {
    assert.match(formatStep(result.steps[2]!, 2, 3, 'loss'), /DID NOT COMPLETE: LAB_ERR_DEADLINE/);
    assert.match(formatSummary(result), /\n +30 +- +28\.8 +0\.048 +- +cut +70\.0 +70\.0 +70\.0/);
  });

  it('summarises the sweep in one table, the swept quantity first, in its unit', () => {
    const lines = formatSummary(result).split('\n');
    assert.match(lines[0]!, /^sweep of loss 0%,10%,30%: /);
    assert.match(lines[1]!, /loss % +TCP up Mbit\/s +Mathis +RFC 5348 +down Mbit\/s +copy +unicast % +multicast % +expected %/);
    assert.match(lines[2]!, /^ +0 +300 +- +- +419 +identical +100\.0 +100\.0 +100\.0/);
    assert.match(formatSweep(result), /a UDP datagram crosses 1 impaired point\b/);
  });

  it('shows the RTT, duplicates and reordering beside what netem predicts, where the sweep makes them', () => {
    const delayed = delaySweepFixture();
    const summary = formatSummary(delayed);
    assert.match(summary, /delay ms +TCP up Mbit\/s +down Mbit\/s +copy +idle rtt ms +expected +unicast % +multicast % +expected % +reord unica % +reord multi % +reord exp %/);
    assert.match(summary, /\n +20 +[\d.]+ +[\d.]+ +identical +20\.9 +20\.9 +100\.0/);
    const step = formatStep(delayed.steps[1]!, 1, 2, 'delay');
    assert.match(step, /kernel   rtt 20\.9 ms idle \(expected 20\.9\) ✓, /);
    assert.match(step, /expected per receiver: reordered \d+ \(\d+-\d+\), late 0 \(0\), jitter [\d.]+ \([\d.]+-[\d.]+\) ms/);
    assert.match(step, /reordered, late, jitter: from 200 runs of netem's own algorithm/);
    // The fixture's 30 reordered of 1000 at delay 20ms 5ms (2000/s) and its 0.05 ms of jitter are far from netem's bands: marked, and listed.
    assert.match(step, /unicast +1 +1000\/1000 +0\.0% ✓ .* +30 ! +0 ✓ +0\.050 ms !/);
    assert.ok(delayed.outside.some((line) => /^step 2 \(delay 20ms 5ms\): unicast receiver 1: reordered 30, band \d+-\d+$/.test(line)), delayed.outside.join('\n'));
    assert.match(formatSweep(delayed), /^outside their 99% band \(\d+; a correct lab puts about one count in a hundred there by chance\):\n  step 2/m);
    assert.match(formatSweep(result), /^outside their 99% band: none$/m);
    const cpu = { ...delayed, steps: delayed.steps.map((s) => ({ ...s, udp: s.udp.map((m) => ({ ...m, timingDistortedByLab: true })) })) };
    assert.match(formatStep(cpu.steps[1]!, 1, 2, 'delay'), /this lab's own CPU shapes jitter and lateness \(~\): not the network's/);
  });

  it('charts a delay sweep on a delay axis, with the RTT and the reordering panels', async () => {
    const svg = await renderSweepSvg(delaySweepFixture());
    for (const text of ['TCP vs UDP under delay', 'delay per impaired point (ms)', 'round-trip time the kernel measured', 'arrived after a later one']) assert.ok(svg.includes(text), text);
  });

  it('charts UDP delivery inside its band, TCP goodput beside both models, and TCP integrity', async () => {
    const spec = JSON.stringify(sweepChartSpec(result));
    for (const series of ['Mathis model', 'RFC 5348 model', 'upload, measured (data impaired)', 'download, measured (ACKs impaired)', 'did not complete in time', '"mode":"multicast"']) assert.ok(spec.includes(series), series);
    const svg = await renderSweepSvg(result);
    assert.match(svg, /^<svg/);
    for (const text of ['TCP vs UDP under packet loss', 'UDP: datagrams delivered', 'TCP: the copy that came back', 'loss per impaired point (%)']) assert.ok(svg.includes(text), text);
    assert.ok(!svg.includes('round-trip time'), 'no RTT panel where nothing delays');
    const html = sweepHtml(result, svg, formatSweep(result));
    assert.ok(html.includes(svg));
    assert.doesNotMatch(html, /<script|<link/);
    // Every receiver's figures against their bands, coloured by verdict.
    assert.match(html, /<h2>Every figure against its band<\/h2>/);
    assert.match(html, /<td class="inside" title="lost: inside its band">100 ✓<br><small>76-125<\/small><\/td>/);
    assert.match(html, /<td class="lab" title="jitter: the lab&#39;s own">0\.050 ms ~/);
    assert.match(html, /No figure lies outside its 99% band/);
  });

  it('charts a sweep of one unimpaired step (the loopback lab) on readable axes, and lists the lab\'s limits', async () => {
    const one = {
      ...result,
      lab: { backend: 'loopback' as const, description: 'local processes on 127.0.0.1', limits: ['not root: no impairment'], skipped: ['the loss steps 10, 30%'], honestUdpRate: null },
      impairment: null,
      calibration: null,
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
    const committed = JSON.parse(readFileSync(new URL('../docs/sweep-result.schema.json', import.meta.url), 'utf8'));
    assert.deepEqual(committed, JSON.parse(JSON.stringify(sweepResultJsonSchema())));
  });
});
