import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Direction } from './commands.ts';
import { binomialInterval } from './intervals.ts';
import { Random } from './netem-model.ts';
import { copiesPerDatagram, expectUdp, pointRates, simulateUdpStream, type UdpPath } from './path-model.ts';
import { effectiveProfile, parseProfile } from './profile.ts';

const path = (text: string, direction: Direction = 'in', mode: UdpPath['mode'] = 'unicast'): UdpPath => ({
  profile: effectiveProfile(parseProfile(text)),
  direction,
  mode,
  receivers: 2,
  datagrams: 1000,
  rate: 200,
  datagramBytes: 512,
  drainMs: 2000,
  lateMs: 50,
});

describe('what the lab\'s paths should show, from netem\'s algorithm', () => {
  it('gives exact bands for memoryless profiles: the binomial for loss, and agrees with netem\'s algorithm run many times', () => {
    const loss = expectUdp(path('loss 10%'));
    assert.equal(loss.method, 'exact');
    assert.deepEqual(loss.lost.band99, binomialInterval(1000, 0.1, 0.99));
    for (const [text, direction] of [['loss 10% duplicate 5% corrupt 2%', 'both'], ['duplicate 10%', 'both'], ['loss 30%', 'out']] as const) {
      const exact = expectUdp(path(text, direction));
      const random = new Random(3);
      let lost = 0;
      let duplicates = 0;
      const trials = 400;
      for (let i = 0; i < trials; i++) {
        const counts = simulateUdpStream(path(text, direction), random)[0]!;
        lost += counts.lost;
        duplicates += counts.duplicates;
      }
      assert.ok(Math.abs(lost / trials - exact.lost.mean) < 3, `${text} ${direction}: lost ${lost / trials} against ${exact.lost.mean}`);
      assert.ok(Math.abs(duplicates / trials - exact.duplicates.mean) < 3, `${text} ${direction}: duplicates ${duplicates / trials} against ${exact.duplicates.mean}`);
    }
  });

  it('counts the points a path crosses, and each copy of a duplicate out of the relay on its own', () => {
    assert.ok(Math.abs(copiesPerDatagram(path('loss 10%', 'both'))[0]! - 0.19) < 1e-12);
    // Duplicated into the relay, both copies go out, each maybe duplicated again: up to 4 copies.
    const copies = copiesPerDatagram(path('duplicate 10%', 'both'));
    assert.equal(copies.length, 5);
    assert.ok(Math.abs(copies.reduce((sum, p, k) => sum + p * k, 0) - 1.1 * 1.1) < 1e-12);
  });

  it('simulates what has memory: a correlated loss far below its nominal rate, Gilbert-Elliott bursts in a wide band', () => {
    const correlated = expectUdp(path('loss 10% 25%'));
    assert.equal(correlated.method, 'simulated');
    assert.ok(correlated.lost.mean > 12 && correlated.lost.mean < 22, String(correlated.lost.mean));
    const ge = expectUdp(path('loss gemodel 5% 30%'));
    assert.ok(Math.abs(ge.lost.mean - 1000 / 7) < 5, String(ge.lost.mean));
    const [low, high] = ge.lost.band99;
    const [bLow, bHigh] = binomialInterval(1000, 1 / 7, 0.99);
    assert.ok(high - low > 1.8 * (bHigh - bLow), `bursts widen the band: ${low}-${high} against ${bLow}-${bHigh}`);
  });

  it('expects reordering, lateness and jitter from delay, jitter and reorder; nothing from loss alone', () => {
    assert.equal(expectUdp(path('loss 10%')).outOfOrder, null);
    const reorder = (percent: number) => expectUdp(path(`delay 10ms reorder ${percent}%`)).outOfOrder!.mean;
    assert.ok(reorder(10) < reorder(25) && reorder(25) < reorder(50), 'more reordering, more datagrams out of order');
    const late = expectUdp(path('delay 100ms 60ms'));
    assert.ok(late.late!.mean > 0, 'a jitter beyond the 50 ms playout margin makes some late');
    const jitter = expectUdp(path('delay 20ms 5ms'));
    assert.ok(jitter.jitterMs!.mean > 2 && jitter.jitterMs!.mean < 5, String(jitter.jitterMs!.mean));
  });

  it('loses what a rate\'s queue cannot hold or the receivers no longer wait for', () => {
    assert.equal(expectUdp(path('rate 1mbit')).lost.mean, 0, '200 datagrams of 554 bytes a second fit in 1 Mbit/s');
    // Out of the relay, unicast sends a copy per receiver: twice the stream, more than the rate.
    assert.ok(expectUdp(path('rate 1mbit', 'out', 'unicast')).lost.mean > 100);
    assert.equal(expectUdp(path('rate 1mbit', 'out', 'broadcast')).lost.mean, 0, 'one copy for all receivers fits');
  });

  it('counts the relay\'s own broadcasts, which come back through its way in: they move a Gilbert-Elliott chain on', () => {
    // Seen on a netem kernel: 3000 datagrams under gemodel 5% 30% into the relay, unicast lost 14.6%,
    // broadcast 20.5%. After each datagram it forwards, the relay's broadcast passes its ingress netem too.
    const unicast = expectUdp({ ...path('loss gemodel 5% 30%'), datagrams: 3000 });
    const broadcast = expectUdp({ ...path('loss gemodel 5% 30%', 'in', 'broadcast'), datagrams: 3000 });
    assert.ok(Math.abs(unicast.lost.mean / 3000 - 1 / 7) < 0.005);
    assert.ok(broadcast.lost.mean / 3000 > 0.19 && broadcast.lost.mean / 3000 < 0.24, String(broadcast.lost.mean));
    assert.ok(broadcast.lost.band99[0] <= 615 && 615 <= broadcast.lost.band99[1], 'the loss seen lies in the band');
    // Memoryless loss does not care how many packets pass: the same for every mode.
    assert.deepEqual(expectUdp(path('loss 10%', 'in', 'broadcast')).lost, expectUdp(path('loss 10%')).lost);
  });

  it('holds a band for every place in the relay\'s fan-out: under a full queue the first member\'s copy gets in where the second\'s is dropped', () => {
    const queued = expectUdp({ ...path('rate 500kbit', 'out'), rate: 250, drainMs: 9864 });
    const [first, second] = simulateUdpStream({ ...path('rate 500kbit', 'out'), rate: 250, drainMs: 9864 }, new Random(1));
    assert.ok(second!.lost - first!.lost > 100, `${first!.lost} against ${second!.lost}`);
    assert.ok(queued.lost.band99[0] <= first!.lost && second!.lost <= queued.lost.band99[1], JSON.stringify(queued.lost));
  });

  it('gives a TCP segment\'s loss and delay at one point', () => {
    assert.ok(Math.abs(pointRates(parseProfile('loss 10%'), 66, 'ingress').loss - 0.1) < 1e-12);
    assert.equal(pointRates(parseProfile('delay 20ms'), 66, 'ingress').delayMs, 20);
    assert.ok(Math.abs(pointRates(parseProfile('delay 20ms reorder 25%'), 66, 'ingress').delayMs - 15) < 0.3, 'a reordered segment is not delayed');
    assert.ok(Math.abs(pointRates(effectiveProfile(parseProfile('loss 10% 25%')), 66, 'ingress').loss - 0.017) < 0.002);
  });

  it('counts as iperf3 does where asked: a second copy is out of order and takes one back from the lost gaps', () => {
    const lab = expectUdp({ ...path('duplicate 10%'), receivers: 1 });
    const iperf3 = expectUdp({ ...path('duplicate 10%'), receivers: 1, counting: 'iperf3' });
    assert.equal(lab.outOfOrder, null, 'the lab counts duplicates apart: nothing moves in time');
    assert.ok(Math.abs(lab.duplicates.mean - 100) < 1e-9);
    assert.equal(iperf3.method, 'simulated');
    assert.equal(iperf3.duplicates.mean, 0, 'iperf3 has no count of duplicates');
    // iperf3's out of order holds the copies, which nothing else moves.
    assert.ok(Math.abs(iperf3.outOfOrder!.mean - 100) < 3, JSON.stringify(iperf3.outOfOrder));
    assert.equal(iperf3.lost.mean, 0);
    // With loss as well, iperf3's lost is net of the copies that came after a gap: less than the lab's.
    const both = expectUdp({ ...path('loss 10% duplicate 10%'), receivers: 1, counting: 'iperf3' });
    const labBoth = expectUdp({ ...path('loss 10% duplicate 10%'), receivers: 1 });
    assert.ok(both.lost.mean < labBoth.lost.mean, `${both.lost.mean} against ${labBoth.lost.mean}`);
    const random = new Random(5);
    const [counts] = simulateUdpStream({ ...path('delay 10ms reorder 25%'), receivers: 1, counting: 'iperf3' }, random);
    assert.ok(counts!.outOfOrder > 100 && counts!.lost === 0, JSON.stringify(counts));
  });
});
