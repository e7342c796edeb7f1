import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LIVE_SAMPLE_PREFIX, liveSampleSchema } from '@lab/results';
import { LiveReporter } from './live-reporter.ts';
import { StreamStats } from './stream-stats.ts';

describe('live samples', () => {
  it('says what each arrival was: received, a duplicate, reordered, late', () => {
    const stats = new StreamStats(50);
    assert.equal(stats.record(0n, 0n, 1_000n), 'received');
    assert.equal(stats.record(2n, 0n, 1_000n), 'received');
    assert.equal(stats.record(1n, 0n, 1_000n), 'reordered');
    assert.equal(stats.record(1n, 0n, 1_000n), 'duplicate');
    assert.equal(stats.record(3n, 0n, 100_000n), 'late');
    assert.deepEqual([stats.summary(4).outOfOrder, stats.summary(4).duplicates, stats.summary(4).late], [1, 1, 1]);
  });

  it('gathers each receiver\'s arrivals into one line per period, that the lab\'s schema reads back', async () => {
    const lines: string[] = [];
    const live = new LiveReporter(20, (line) => lines.push(line));
    live.arrival('unicast', 1, 100, 0, 'received');
    live.arrival('unicast', 2, 100, 0, 'received');
    live.arrival('unicast', 1, 100, 2, 'received');
    live.arrival('unicast', 1, 100, 1, 'reordered');
    assert.equal(lines.length, 0, 'nothing before the period ends');
    await new Promise((resolve) => setTimeout(resolve, 60));
    assert.equal(lines.length, 2);
    const samples = lines.map((line) => {
      assert.ok(line.startsWith(LIVE_SAMPLE_PREFIX) && line.endsWith('\n'));
      return liveSampleSchema.parse(JSON.parse(line.slice(LIVE_SAMPLE_PREFIX.length)));
    });
    assert.deepEqual(samples[0], { kind: 'udp', mode: 'unicast', receiver: 1, of: 100, arrivals: [[0, 'received'], [2, 'received'], [1, 'reordered']] });
    assert.deepEqual(samples[1], { kind: 'udp', mode: 'unicast', receiver: 2, of: 100, arrivals: [[0, 'received']] });
  });

  it('tells nothing, and keeps nothing, when off', () => {
    const lines: string[] = [];
    const live = new LiveReporter(0, (line) => lines.push(line));
    live.arrival('unicast', 1, 100, 0, 'received');
    live.tell({ kind: 'tcp', phase: 'upload', tMs: 1, bytes: 10, done: 5, cwnd: 10, rttMs: 1, retransmittedSegments: 0 });
    live.flush();
    assert.deepEqual(lines, []);
  });
});
