import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { analyseStep, linkFigures, stepOk } from './step-analysis.ts';
import { experimentAt, FIXTURE_LINK } from './sweep-fixture.ts';

describe('step analysis', () => {
  it('puts the loss where the data meets it: into the servers, the upload loses; the download does not', () => {
    const inward = analyseStep(experimentAt(7.5, 100), { lossPercent: 10, direction: 'in', udpPathHops: 1, link: FIXTURE_LINK });
    assert.equal(inward.tcp.upload.dataLossPercent, 10);
    assert.equal(inward.tcp.download.dataLossPercent, 0);
    assert.equal(inward.tcp.download.mathisMbitPerS, null, 'no loss: the model sets no limit');
    // Mathis: 1448 B * 8 / 0.9 ms * sqrt(3/2) / sqrt(0.1) = 12.87 Mbit/s * 3.873 = 49.85 Mbit/s.
    assert.ok(Math.abs(inward.tcp.upload.mathisMbitPerS! - 49.85) < 0.01, String(inward.tcp.upload.mathisMbitPerS));
    assert.ok(inward.tcp.upload.rfc5348MbitPerS! < inward.tcp.upload.mathisMbitPerS!, 'timeouts cost more than Mathis allows for');
    const outward = analyseStep(experimentAt(7.5, 100), { lossPercent: 10, direction: 'out', udpPathHops: 1, link: FIXTURE_LINK });
    assert.deepEqual([outward.tcp.upload.dataLossPercent, outward.tcp.download.dataLossPercent], [0, 10]);
    const both = analyseStep(experimentAt(7.5, 100), { lossPercent: 10, direction: 'both', udpPathHops: 2, link: FIXTURE_LINK });
    assert.deepEqual([both.tcp.upload.dataLossPercent, both.tcp.download.dataLossPercent], [10, 10]);
  });

  it('gives the models one RTT, RTO and MSS for the link: the medians over the steps', () => {
    const at = (rttMs: number) => {
      const report = experimentAt(7.5, 100);
      if (!('error' in report.tcp)) report.tcp.connection = { rttMs, rttVarMs: 0.1, rtoMs: 204, mss: 1448, bytesRetransmitted: 0 };
      return report;
    };
    assert.deepEqual(linkFigures([at(0.2), at(1.3), at(0.9), experimentAt('cut', 300)]), { rttMs: 0.9, rtoMs: 204, mss: 1448 });
    assert.equal(linkFigures([at(0.2), at(1.0)])!.rttMs, 0.6);
    assert.equal(linkFigures([experimentAt('cut', 300)]), null);
    const noLink = analyseStep(experimentAt(7.5, 100), { lossPercent: 10, direction: 'in', udpPathHops: 1, link: null });
    assert.equal(noLink.tcp.upload.mathisMbitPerS, null);
  });

  it('expects UDP loss from the hops the path crosses, and checks each receiver against the exact 99% band', () => {
    const oneHop = analyseStep(experimentAt(7.5, 100), { lossPercent: 10, direction: 'in', udpPathHops: 1, link: FIXTURE_LINK });
    const receiver = oneHop.udp[0]!.receivers[0]!;
    assert.ok(Math.abs(oneHop.udp[0]!.expectedLossPercent - 10) < 1e-9);
    assert.ok(receiver.band99[0] < 100 && receiver.band99[1] > 100 && receiver.withinBand, JSON.stringify(receiver));
    // Two hops at 10% lose 19%: 100 of 1000 is far outside that band, and says so.
    const twoHops = analyseStep(experimentAt(7.5, 100), { lossPercent: 10, direction: 'both', udpPathHops: 2, link: FIXTURE_LINK });
    assert.ok(Math.abs(twoHops.udp[0]!.expectedLossPercent - 19) < 1e-9);
    assert.equal(twoHops.udp[0]!.receivers[0]!.withinBand, false);
    const none = analyseStep(experimentAt(300, 0), { lossPercent: 0, direction: 'in', udpPathHops: 1, link: FIXTURE_LINK });
    assert.deepEqual(none.udp[0]!.receivers[0]!.band99, [0, 0]);
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
