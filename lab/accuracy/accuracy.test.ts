import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { expectUdp, parseProfile } from '@lab/impairment';
import { labHeader, parseTsharkFields } from '../capture/captured-frame.ts';
import { sendGaps } from '../capture/send-gaps.ts';
import { streamPacing } from '../capture/step-capture.ts';
import { parseProfiles } from './accuracy-options.ts';
import { formatAccuracy } from './accuracy-table.ts';
import type { AccuracyOutcome } from './accuracy-run.ts';
import { iperf3UdpFigures } from './iperf3-udp.ts';

// What iperf3 3.12 (Debian 12) wrote for `iperf3 -c … -u -b 819200 -l 512 -k 600 -J --get-server-output` (the server with -J), cut to
// its start, its end and the server's seconds.
const iperf3Report = JSON.parse(readFileSync(join(import.meta.dirname, '../fixtures/iperf3-udp.json'), 'utf8')) as unknown;

describe('the accuracy check', () => {
  it('reads what iperf3 counted at the receiving end from its JSON report, and says why when it cannot', () => {
    assert.deepEqual(iperf3UdpFigures(iperf3Report), { sent: 600, counted: 599, lost: 0, outOfOrder: 0, jitterMs: 0.01456820514168493, jitterMedianMs: 0.0165754486204619, jitterMaxMs: 0.018502357234219644 });
    const broken = iperf3UdpFigures({ end: { sum_sent: { packets: 5 } }, server_output_json: { intervals: [] } });
    assert.ok('problem' in broken && /server_output_json\.end/.test(broken.problem), JSON.stringify(broken));
    // A count iperf3 let go below zero, printed as an unsigned 64-bit number.
    const report = structuredClone(iperf3Report) as { server_output_json: { end: { streams: { udp: { packets: number } }[] } } };
    report.server_output_json.end.streams[0]!.udp.packets = 18446744073709551615;
    const wrapped = iperf3UdpFigures(report);
    assert.ok('problem' in wrapped && /iperf3 reported 18446744073709552000 for packets: not a count/.test(wrapped.problem), JSON.stringify(wrapped));
    assert.ok('problem' in iperf3UdpFigures('not json at all'));
    assert.deepEqual(iperf3UdpFigures({ start: {}, intervals: [], end: {}, error: 'unable to read from stream socket: Resource temporarily unavailable' }), {
      problem: 'iperf3 stopped: unable to read from stream socket: Resource temporarily unavailable',
    });
  });

  it('reads profiles separated by semicolons, each in tc-netem words', () => {
    const profiles = parseProfiles('delay 10ms 2ms loss 5%; delay 10ms reorder 25% ;duplicate 10%;');
    assert.equal(profiles.length, 3);
    assert.deepEqual(profiles[2], parseProfile('duplicate 10%'));
    assert.throws(() => parseProfiles(' ; '), /no profile/);
    assert.throws(() => parseProfiles('delay 10ms; jitter 5ms'));
  });

  it('measures how evenly a stream left from capture times: the gaps, their quantiles, the bursts', () => {
    const even = Array.from({ length: 101 }, (_, i) => i * 0.005);
    assert.deepEqual(sendGaps(even, 200), { datagrams: 101, nominalMs: 5, p1: 5, p50: 5, p99: 5, bursts: 0 });
    // A stall: one gap of 12 ms, then two datagrams back to back; a stamp a hair out of order counts as none.
    const stalled = [0, 0.005, 0.017, 0.0171, 0.022, 0.0219];
    const gaps = sendGaps(stalled, 200)!;
    assert.deepEqual([gaps.p1, gaps.bursts], [0, 2]);
    assert.equal(sendGaps([0], 200), null);
  });

  it("finds each stream's departures in a capture by the lab header's room, the sender's data only", () => {
    assert.deepEqual(labHeader('4c5501040000000000000003c66e31ab00000000000000000006620c9982e14e5555'), { type: 4, room: 3 });
    assert.equal(labHeader('4c5502040000000000000003'), null, 'another version');
    assert.equal(labHeader('a0b1'), null);
    const line = (frame: number, seconds: number, src: string, dst: string, room: number, type = 4) =>
      [frame, seconds, src, dst, '', '', '', '', '', '', '', '', '', '', '', '', '', '', '', '', '', '', '', 40000, 9001, 520, `4c5501${type.toString(16).padStart(2, '0')}00000000${room.toString(16).padStart(8, '0')}c66e31ab0000000000000000`].join('\t');
    const text = [
      line(1, 0.0, '10.0.0.4', '10.0.0.3', 3),
      line(2, 0.005, '10.0.0.4', '10.0.0.3', 3),
      line(3, 0.0051, '10.0.0.3', '10.0.0.4', 3), // the relay's copy coming back: not a departure
      line(4, 0.01, '10.0.0.4', '10.0.0.3', 3),
      line(5, 0.0101, '10.0.0.4', '10.0.0.3', 3, 7), // a keepalive: not data
      line(6, 0.02, '10.0.0.4', '10.0.0.3', 4),
      line(7, 0.025, '10.0.0.4', '10.0.0.3', 4),
    ].join('\n');
    const { frames, refused } = parseTsharkFields(text);
    assert.equal(refused, 0);
    const pacing = streamPacing(frames, '10.0.0.4', { rate: 200, rooms: [{ mode: 'unicast', room: 3 }, { mode: 'multicast', room: 4 }, { mode: 'broadcast', room: 9 }] });
    assert.deepEqual(pacing.map((p) => [p.mode, p.datagrams, p.p50]), [['unicast', 3, 5], ['multicast', 2, 5]]);
  });

  it("prints both tools' figures against what netem expects of each one's counting, and lists what lies outside", () => {
    const profile = parseProfile('duplicate 10%');
    const path = { profile, direction: 'in' as const, mode: 'unicast' as const, receivers: 1, rate: 200, datagramBytes: 512, drainMs: 1000, lateMs: 50, datagrams: 1000 };
    const calibration: AccuracyOutcome = {
      profile: 'none',
      movesInTime: false,
      installed: 'qdisc noqueue 0: root refcnt 2',
      iperf3: { figures: { sent: 1000, counted: 1000, lost: 0, outOfOrder: 0, jitterMs: 0.04, jitterMedianMs: 0.04, jitterMaxMs: 0.06 }, expected: expectUdp({ ...path, profile: {}, counting: 'iperf3' }), gaps: null },
      lab: {
        figures: { receiver: 1, listen: ':5000', sent: 1000, received: 1000, unique: 1000, lost: 0, lossPercent: 0, duplicates: 0, outOfOrder: 0, late: 0, jitterMs: 0.05, jitterP50Ms: 0.05, jitterP99Ms: 0.08 },
        expected: expectUdp({ ...path, profile: {} }),
        gaps: null,
      },
      captureFile: null,
    };
    const outcome: AccuracyOutcome = {
      profile: 'duplicate 10%',
      movesInTime: false,
      installed: 'qdisc netem 8001: root refcnt 2 limit 1000 duplicate 10%',
      iperf3: { figures: { sent: 1000, counted: 1000, lost: 0, outOfOrder: 97, jitterMs: 0.05, jitterMedianMs: 0.05, jitterMaxMs: 0.07 }, expected: expectUdp({ ...path, counting: 'iperf3' }), gaps: sendGaps([0, 0.005, 0.01], 200) },
      lab: {
        figures: { receiver: 1, listen: ':5000', sent: 1000, received: 1240, unique: 1000, lost: 0, lossPercent: 0, duplicates: 240, outOfOrder: 0, late: 0, jitterMs: 0.05, jitterP50Ms: 0.05, jitterP99Ms: 0.08 },
        expected: expectUdp(path),
        gaps: null,
      },
      captureFile: 'accuracy-1.pcapng',
    };
    const { text, outside } = formatAccuracy({ calibration, outcomes: [outcome] }, { datagrams: 1000, datagramBytes: 512, rate: 200 });
    assert.match(text, /^  the lab: +jitter 0\.050 ms \(over the stream: median 0\.050, up to 0\.080\), 0 reordered, 0 lost; sent not captured$/m);
    // iperf3's second copies are its out of order, and inside what netem expects of its counting.
    assert.match(text, /out of order +9\d +\(\d+; \d+-\d+\) +inside/);
    assert.match(text, /^duplicate 10%: 1000 datagrams of 512 B at 200\/s/m);
    assert.match(text, /duplicated +in out of order \(iperf3 counts a second copy as out of order\) +240 +\(100; \d+-\d+\) +OUTSIDE/);
    assert.match(text, /send gaps \(nominal 5\.00 ms\) +p1 5\.00, p50 5\.00, p99 5\.00 ms; 0 under half +not captured/);
    assert.deepEqual(outside, ["duplicate 10%: the lab's duplicated"]);
    assert.match(text, /^accuracy: outside the 99% band: duplicate 10%: the lab's duplicated$/m);
  });
});
