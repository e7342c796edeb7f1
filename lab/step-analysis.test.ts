import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseProfile } from '@lab/impairment';
import { addedRttMs, analyseStep, drainFor, linkFigures, stepOk } from './step-analysis.ts';
import { contextAt, experimentAt } from './fixtures/sweep-fixture.ts';

const loss10 = parseProfile('loss 10%');

describe('step analysis', () => {
  it('puts the loss where the data meets it: into the servers, the upload loses; the download does not', () => {
    const inward = analyseStep(experimentAt(7.5, 100), contextAt(loss10, 'in'));
    assert.ok(Math.abs(inward.tcp.upload.dataLossPercent - 10) < 1e-9);
    assert.equal(inward.tcp.download.dataLossPercent, 0);
    assert.ok(Math.abs(inward.tcp.download.ackLossPercent - 10) < 1e-9, 'the download\'s ACKs go into the server');
    assert.equal(inward.tcp.download.mathisMbitPerS, null, 'no loss: the model sets no limit');
    // Mathis: 1448 B * 8 / 0.9 ms * sqrt(3/2) / sqrt(0.1) = 12.87 Mbit/s * 3.873 = 49.85 Mbit/s.
    assert.ok(Math.abs(inward.tcp.upload.mathisMbitPerS! - 49.85) < 0.01, String(inward.tcp.upload.mathisMbitPerS));
    assert.ok(inward.tcp.upload.rfc5348MbitPerS! < inward.tcp.upload.mathisMbitPerS!, 'timeouts cost more than Mathis allows for');
    const outward = analyseStep(experimentAt(7.5, 100), contextAt(loss10, 'out'));
    assert.deepEqual([outward.tcp.upload.dataLossPercent, Math.round(outward.tcp.download.dataLossPercent)], [0, 10]);
    const both = analyseStep(experimentAt(7.5, 100), contextAt(loss10, 'both'));
    assert.deepEqual([both.tcp.upload.dataLossPercent, both.tcp.download.dataLossPercent].map(Math.round), [10, 10]);
  });

  it('says a TCP direction is not impaired only when nothing applies to its data or its ACKs', () => {
    const delayed = analyseStep(experimentAt(300, 0), contextAt(parseProfile('delay 20ms'), 'in'));
    assert.equal(delayed.tcp.upload.dataImpairment, 'delay 20ms');
    assert.equal(delayed.tcp.upload.ackImpairment, null);
    assert.equal(delayed.tcp.download.dataImpairment, null);
    assert.equal(delayed.tcp.download.ackImpairment, 'delay 20ms', 'the download is impaired: its ACKs are delayed');
    const none = analyseStep(experimentAt(300, 0), contextAt(null));
    assert.equal(none.tcp.upload.dataImpairment, null);
    assert.equal(none.tcp.upload.ackImpairment, null);
  });

  it('takes loss from every word that drops: corrupt (the checksum drops it) and Gilbert-Elliott (its stationary rate)', () => {
    const corrupt = analyseStep(experimentAt(7.5, 49), contextAt(parseProfile('corrupt 5%')));
    // A datagram of 554 bytes on the wire: a flip in its 14-byte Ethernet header goes unnoticed on the way in.
    assert.ok(Math.abs(corrupt.udp[0]!.expectedLossPercent - 5 * (1 - 14 / 554)) < 1e-9, String(corrupt.udp[0]!.expectedLossPercent));
    assert.ok(corrupt.udp[0]!.receivers[0]!.withinBand);
    // A full segment is 1514 bytes on the wire, all of them open to the flip (netem copies TCP's clone whole).
    assert.ok(Math.abs(corrupt.tcp.upload.dataLossPercent - 5 * (1 - 14 / 1514)) < 1e-9, String(corrupt.tcp.upload.dataLossPercent));
    const ge = analyseStep(experimentAt(7.5, 143), contextAt(parseProfile('loss gemodel 5% 30%')));
    assert.equal(ge.udp[0]!.method, 'simulated');
    // p / (p + r) = 5 / 35 of the datagrams, lost in bursts: a band much wider than a binomial one.
    assert.ok(Math.abs(ge.udp[0]!.expectedLossPercent - 100 / 7) < 0.5, String(ge.udp[0]!.expectedLossPercent));
    const [low, high] = ge.udp[0]!.receivers[0]!.lostBand99;
    assert.ok(high - low > 100, `${low}-${high}`);
  });

  it('expects duplicates from duplicate, and reordering, late and jitter from what moves datagrams in time', () => {
    const duplicated = analyseStep(experimentAt(300, 0), contextAt(parseProfile('duplicate 10%')));
    assert.ok(Math.abs(duplicated.udp[0]!.expectedDuplicatePercent - 10) < 1e-9);
    assert.deepEqual(duplicated.udp[0]!.receivers[0]!.duplicatesBand99, [76, 125]);
    assert.equal(duplicated.udp[0]!.receivers[0]!.duplicatesWithinBand, false, 'none arrived twice: outside');
    assert.equal(duplicated.udp[0]!.outOfOrder, null, 'nothing moves in time');
    const reordered = analyseStep(experimentAt(300, 0), contextAt(parseProfile('delay 10ms reorder 25%')));
    assert.ok(reordered.udp[0]!.outOfOrder!.mean > 100, 'a quarter sent at once overtakes what waits 10 ms');
    assert.ok(reordered.udp[0]!.jitterMs!.mean > 1);
  });

  it('expects the RTT from the delay on the round trip, and checks the kernel\'s idle RTT within 20% or 2 ms', () => {
    assert.equal(addedRttMs(parseProfile('delay 20ms'), 'in'), 20);
    assert.equal(addedRttMs(parseProfile('delay 20ms'), 'both'), 40);
    assert.equal(addedRttMs(parseProfile('delay 20ms rate 1mbit'), 'in'), null, 'a rate queues: no fixed RTT');
    assert.equal(addedRttMs(parseProfile('delay 20ms reorder 25%'), 'in'), null, 'a round trip is delayed or not');
    const report = experimentAt(300, 0);
    if (!('error' in report.tcp)) report.tcp.idleRttMs = 20.6;
    const step = analyseStep(report, contextAt(parseProfile('delay 20ms'), 'in', { rttMs: 0.4, rtoMs: 204, mss: 1448 }));
    assert.equal(step.tcp.expectedRttMs, 20.4);
    assert.equal(step.tcp.rttWithinTolerance, true);
    if (!('error' in report.tcp)) report.tcp.idleRttMs = 40;
    assert.equal(analyseStep(report, contextAt(parseProfile('delay 20ms'), 'in', { rttMs: 0.4, rtoMs: 204, mss: 1448 })).tcp.rttWithinTolerance, false);
  });

  it('gives the models one RTT, RTO and MSS for the link: the medians over the steps, the profile\'s delay taken off', () => {
    const at = (rttMs: number, idleRttMs: number | null = null) => {
      const report = experimentAt(7.5, 100);
      if (!('error' in report.tcp)) {
        report.tcp.connection = { rttMs, rttVarMs: 0.1, rtoMs: 204, mss: 1448, bytesRetransmitted: 0 };
        report.tcp.idleRttMs = idleRttMs;
      }
      return { experiment: report, addedRttMs: 0 };
    };
    assert.deepEqual(linkFigures([at(0.2), at(1.3), at(0.9), { experiment: experimentAt('cut', 300), addedRttMs: 0 }]), { rttMs: 0.9, rtoMs: 204, mss: 1448 });
    assert.equal(linkFigures([at(0.2), at(1.0)])!.rttMs, 0.6);
    assert.equal(linkFigures([at(5, 0.5), at(7, 0.7)])!.rttMs, 0.6, 'the idle RTT, where there is one');
    assert.equal(linkFigures([{ ...at(20.5, 20.5), addedRttMs: 20 }])!.rttMs, 0.5);
    assert.equal(linkFigures([{ experiment: experimentAt('cut', 300), addedRttMs: 0 }]), null);
    assert.equal(analyseStep(experimentAt(7.5, 100), contextAt(loss10, 'in', null)).tcp.upload.mathisMbitPerS, null);
  });

  it('checks each receiver\'s loss against the 99% band of the points its path crosses', () => {
    const oneHop = analyseStep(experimentAt(7.5, 100), contextAt(loss10, 'in'));
    const receiver = oneHop.udp[0]!.receivers[0]!;
    assert.ok(Math.abs(oneHop.udp[0]!.expectedLossPercent - 10) < 1e-9);
    assert.deepEqual(receiver.lostBand99, [76, 125]);
    assert.ok(receiver.withinBand);
    // Two points at 10% lose 19%: 100 of 1000 is far outside that band, and says so.
    const twoHops = analyseStep(experimentAt(7.5, 100), contextAt(loss10, 'both'));
    assert.ok(Math.abs(twoHops.udp[0]!.expectedLossPercent - 19) < 1e-9);
    assert.equal(twoHops.udp[0]!.receivers[0]!.withinBand, false);
    const none = analyseStep(experimentAt(300, 0), contextAt(null));
    assert.deepEqual(none.udp[0]!.receivers[0]!.lostBand99, [0, 0]);
  });

  it('gives netem\'s model the stream as asked for: how late the sender was changes nothing of the network\'s part', () => {
    const profile = parseProfile('delay 10ms 2ms');
    const even = experimentAt(300, 0);
    const bursty = experimentAt(300, 0);
    if (!('error' in bursty.udp)) for (const mode of bursty.udp.modes) mode.sendLateMs = { min: 0, p10: 0.1, p50: 1, p90: 4, p99: 9, max: 12 };
    const at200 = { ...contextAt(profile), rate: 200 };
    const [a, b] = [analyseStep(even, at200).udp[0]!, analyseStep(bursty, at200).udp[0]!];
    assert.deepEqual(a.outOfOrder, b.outOfOrder);
    // Two datagrams 5 ms apart cannot swap under ±2 ms: the network reorders none of an even stream.
    assert.deepEqual(a.outOfOrder!.band99, [0, 0]);
  });

  it('counts the sender\'s bursts at this step (from the capture) as the lab\'s own reordering, where the profile can reorder', () => {
    const report = experimentAt(300, 0);
    if (!('error' in report.udp)) for (const mode of report.udp.modes) for (const r of mode.receivers) r.outOfOrder = 2;
    const context = { ...contextAt(parseProfile('delay 10ms 2ms')), rate: 200 };
    const pacing = [{ mode: 'unicast' as const, datagrams: 1000, nominalMs: 5, p1: 0.1, p50: 5, p99: 9, bursts: 3 }];
    const withBursts = analyseStep(report, { ...context, pacing }).udp[0]!;
    assert.equal(withBursts.labOwn!.outOfOrder, 3);
    assert.equal(withBursts.receivers[0]!.verdicts.outOfOrder, 'lab');
    const without = analyseStep(report, context).udp[0]!;
    assert.equal(without.receivers[0]!.verdicts.outOfOrder, 'outside', 'two reordered where an even stream gives none, and no burst to explain them');
    // Under a loss alone nothing moves in time: bursts reorder nothing there.
    assert.equal(analyseStep(experimentAt(300, 0), { ...contextAt(loss10), pacing }).udp[0]!.labOwn!.outOfOrder, 0);
  });

  it('marks jitter the lab\'s own where its calibration shows more than netem adds, and judges it by its band where less', () => {
    const profile = parseProfile('delay 10ms 1ms');
    const report = experimentAt(300, 0);
    if (!('error' in report.udp)) for (const mode of report.udp.modes) for (const r of mode.receivers) r.jitterMs = 2.8;
    const figures = (jitterMs: number) => ({ lost: 0, duplicates: 0, outOfOrder: 0, late: 0, jitterMs, jitterHighMs: 2 * jitterMs });
    const own = (jitterMs: number) => ({ udp: { unicast: figures(jitterMs), multicast: figures(jitterMs) }, tcp: null });
    const stalled = analyseStep(report, { ...contextAt(profile), rate: 200, labOwn: own(2.5) }).udp[0]!;
    assert.equal(stalled.receivers[0]!.verdicts.jitter, 'lab');
    const quiet = analyseStep(report, { ...contextAt(profile), rate: 200, labOwn: own(0.1) }).udp[0]!;
    assert.equal(quiet.receivers[0]!.verdicts.jitter, 'outside', '2.8 ms where netem gives about 0.67 and the lab 0.1');
  });

  it('marks timing figures the lab\'s own CPU distorts', () => {
    const context = { ...contextAt(parseProfile('delay 10ms 5ms')), rate: 2000, honestUdpRate: 500 };
    assert.equal(analyseStep(experimentAt(300, 0), context).udp[0]!.timingDistortedByLab, true);
    assert.equal(analyseStep(experimentAt(300, 0), { ...context, rate: 200 }).udp[0]!.timingDistortedByLab, false);
  });

  it('waits after the stream for what the profile delays or queues, at most 30 s', () => {
    assert.equal(drainFor(null, 'in', 512), 1000);
    assert.equal(drainFor(parseProfile('delay 100ms 20ms'), 'both', 512), 1240);
    assert.equal(drainFor(parseProfile('rate 1mbit'), 'in', 512), 1000 + Math.ceil(1000 * 554 * 8 / 1000));
    assert.equal(drainFor(parseProfile('rate 10kbit'), 'in', 512), 30_000);
  });

  it('calls a step cut at the TCP deadline a finding, and a mismatch or a failed part a failure', () => {
    assert.equal(stepOk({ experiment: experimentAt(7.5, 100) }), true);
    assert.equal(stepOk({ experiment: experimentAt('cut', 300) }), true);
    const mismatch = experimentAt(7.5, 100);
    if (!('error' in mismatch.tcp)) mismatch.tcp.identical = false;
    assert.equal(stepOk({ experiment: mismatch }), false);
    const failed = { ...experimentAt(7.5, 100), tcp: { error: { code: 'LAB_ERR_CONNECT' as const, message: 'no server' } } };
    assert.equal(stepOk({ experiment: failed }), false);
    const noUdp = { ...experimentAt(7.5, 100), udp: { error: { code: 'LAB_ERR_JOIN_TIMEOUT' as const, message: 'no relay' } } };
    assert.equal(stepOk({ experiment: noUdp }), false);
  });
});
