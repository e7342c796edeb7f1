import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseProfile } from '@lab/impairment';
import { contextAt, experimentAt } from '../fixtures/sweep-fixture.ts';
import { analyseUdp } from '../step-analysis.ts';
import { liveEventOf, sweepEnded, sweepStarted } from './live-feed.ts';
import { liveEventSchema, liveLine, parseLiveLine } from './live-events.ts';

describe('live events', () => {
  it('tells a step\'s verdict in the words the table and the chart use', () => {
    const experiment = experimentAt(80, 100);
    const udp = analyseUdp(experiment, contextAt(parseProfile('loss 10%')));
    const done = liveEventOf({ kind: 'step-end', index: 1, durationMs: 5000, experiment, udp, summary: 'TCP identical' });
    assert.equal(done.kind, 'step-end');
    assert.ok(done.kind === 'step-end');
    assert.deepEqual(done.tcp.outcome, 'identical');
    assert.ok(done.udp.length > 0);
    for (const mode of done.udp) assert.equal(mode.deliveredPercent, 90);
    // Each receiver's figures with their verdicts: 100 of 1000 lost at 10% is inside; jitter at a loss step is the lab's.
    assert.deepEqual(done.figures.filter((f) => f.mode === 'unicast' && f.receiver === 1).map((f) => [f.name, f.verdict]), [
      ['lost', 'inside'],
      ['duplicated', 'inside'],
      ['reordered', 'inside'],
      ['late', 'inside'],
      ['jitter', 'lab'],
    ]);
    const cut = liveEventOf({ kind: 'step-end', index: 2, durationMs: 120_000, experiment: experimentAt('cut', 300), udp: [], summary: 'TCP LAB_ERR_DEADLINE' });
    assert.ok(cut.kind === 'step-end');
    assert.deepEqual(cut.tcp, { outcome: 'cut', text: 'did not complete in time', uploadMbitPerS: null, downloadMbitPerS: null });
    // What the demo publishes passes the schema the host reads the guest's events with.
    for (const event of [done, cut, sweepStarted('sweep of loss 0%', 'namespaces', ['loss 0%']), sweepEnded({ ok: true }, '<html></html>')]) liveEventSchema.parse(event);
  });

  it('carries an event through one stderr line and back, and takes nothing else for one', () => {
    const event = sweepStarted('sweep of delay 0ms,20ms', 'uml: inside a user-mode Linux kernel', ['delay 0ms', 'delay 20ms']);
    assert.deepEqual(parseLiveLine(liveLine(event)), event);
    assert.ok(!liveLine(event).includes('\n'));
    for (const line of [
      'demo: step 1/2: done',
      'live: ',
      'live: {"kind":"sweep"',
      'live: {"kind":"reboot"}',
      'live: {"kind":"line","text":"x","extra":1}',
      `live: {"kind":"line","text":"${'x'.repeat(5000)}"}`,
      'live: {"kind":"step-end","index":-1}',
      'live: null',
      'live: {"__proto__":{"kind":"line"},"text":"x"}',
    ]) {
      assert.equal(parseLiveLine(line), null, line.slice(0, 60));
    }
  });
});
