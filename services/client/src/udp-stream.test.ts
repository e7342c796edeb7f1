import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { minGapMs, sendStream, type DatagramSender } from './udp-stream.ts';

interface Sent {
  type: string;
  seq: number;
  atMs: number;
}

/** A member whose sends complete at once (or fail, for the seqs in `failing`), recording when each left. */
function recorder(failing: Set<number> = new Set()): DatagramSender & { log: Sent[] } {
  const log: Sent[] = [];
  return {
    log,
    send(type, seq, _payload, sent) {
      log.push({ type, seq: Number(seq), atMs: performance.now() });
      queueMicrotask(() => sent?.(type === 'data' && failing.has(Number(seq)) ? new Error('ENOBUFS') : null));
    },
  };
}

/** A member whose host stalls for 12 ms while datagram 20 is sent: two more fall due meanwhile. */
function stalling(): { log: Sent[]; member: DatagramSender } {
  const log: Sent[] = [];
  const member: DatagramSender = {
    send(type, seq, _payload, sent) {
      log.push({ type, seq: Number(seq), atMs: performance.now() });
      if (type === 'data' && seq === 20n) for (const until = performance.now() + 12; performance.now() < until; );
      queueMicrotask(() => sent?.(null));
    },
  };
  return { log, member };
}

describe('sendStream', () => {
  it('sends every datagram once, in order, never before it is due, and ends with three end datagrams', async () => {
    const member = recorder();
    const rate = 20_000;
    const started = performance.now();
    const sent = await sendStream(member, { datagrams: 2_000, datagramBytes: 512, rate });
    const data = member.log.filter((d) => d.type === 'data');
    assert.deepEqual(data.map((d) => d.seq), Array.from({ length: 2_000 }, (_, i) => i));
    assert.deepEqual(member.log.filter((d) => d.type === 'end').map((d) => d.seq), [2_000, 2_000, 2_000]);
    data.forEach((d, i) => assert.ok(d.atMs >= started + (i * 1000) / rate - 0.05, `datagram ${i} left ${(started + (i * 1000) / rate - d.atMs).toFixed(3)} ms early`));
    assert.ok(sent.lateness.min >= 0);
    assert.equal(sent.sent, 2_000);
    assert.equal(sent.bytes, 2_000 * 512 + 3 * (32 + Buffer.byteLength(JSON.stringify({ sent: 2_000 }))));
  });

  it('paces evenly: after a stall of its thread, no two datagrams leave closer than three quarters of the nominal gap', async () => {
    const { log, member } = stalling();
    const rate = 200;
    const sent = await sendStream(member, { datagrams: 60, datagramBytes: 512, rate });
    const data = log.filter((d) => d.type === 'data');
    const gaps = data.slice(1).map((d, i) => d.atMs - data[i]!.atMs);
    const shortest = Math.min(...gaps);
    assert.ok(shortest >= minGapMs(1000 / rate) - 0.05, `two datagrams left ${shortest.toFixed(3)} ms apart`);
    // It caught up gently: the datagrams after the stall came at the shortest gap until back in place.
    assert.ok(gaps.filter((gap) => gap < 0.9 * (1000 / rate)).length >= 2, gaps.map((gap) => gap.toFixed(2)).join(' '));
    assert.ok(sent.sendMs < (59 * 1000) / rate + 5, `${sent.sendMs.toFixed(1)} ms: back on its schedule by the end`);
    // Waiting is precise to well under a millisecond here (a timer's whole milliseconds were not).
    assert.ok(sent.lateness.p50 < 0.3, `median lateness ${sent.lateness.p50} ms`);
  });

  it('after a long stall, moves the rest of the stream later rather than sending it faster than asked for', async () => {
    const log: Sent[] = [];
    const member: DatagramSender = {
      send(type, seq, _payload, sent) {
        log.push({ type, seq: Number(seq), atMs: performance.now() });
        // 100 ms: twenty gaps at 200/s.
        if (type === 'data' && seq === 5n) for (const until = performance.now() + 100; performance.now() < until; );
        queueMicrotask(() => sent?.(null));
      },
    };
    const sent = await sendStream(member, { datagrams: 60, datagramBytes: 512, rate: 200 });
    const data = log.filter((d) => d.type === 'data');
    const gaps = data.slice(1).map((d, i) => d.atMs - data[i]!.atMs);
    // After the stall, about two gaps' worth made up (10 ms, in gaps of at least 3.75 ms), not the whole
    // 95 ms it fell behind: the stream took about 90 ms longer than asked.
    const stall = gaps.findIndex((gap) => gap > 50);
    let madeUp = 0;
    for (let k = stall + 1; k < gaps.length && gaps[k]! < 4.5; k++) madeUp += 5 - gaps[k]!;
    assert.ok(madeUp <= 25, `${madeUp.toFixed(1)} ms made up after the stall: ${gaps.map((gap) => gap.toFixed(2)).join(' ')}`);
    assert.ok(sent.sendMs > (59 * 1000) / 200 + 80, `${sent.sendMs.toFixed(1)} ms`);
  });

  it('keeps a quarter of the gap to catch up in, and at 2000/s a quarter of a millisecond, at most half the gap', () => {
    assert.equal(minGapMs(5), 3.75);
    assert.equal(minGapMs(1), 0.75);
    assert.equal(minGapMs(0.5), 0.25);
    assert.equal(minGapMs(0.2), 0.1);
  });

  it('with average pacing, catches up after a stall as iperf3 does', async () => {
    const { log, member } = stalling();
    const sent = await sendStream(member, { datagrams: 60, datagramBytes: 512, rate: 200 }, 'average');
    const data = log.filter((d) => d.type === 'data');
    const gaps = data.slice(1).map((d, i) => d.atMs - data[i]!.atMs);
    assert.ok(Math.min(...gaps) < 1, 'the datagrams that fell due during the stall left back to back');
    assert.ok(sent.sendMs < (59 * 1000) / 200 + 5, `${sent.sendMs.toFixed(1)} ms`);
  });

  it('keeps up with 100,000 datagrams a second: batches per timer tick, not one turn of the event loop per datagram', async () => {
    const member = recorder();
    const sent = await sendStream(member, { datagrams: 20_000, datagramBytes: 512, rate: 100_000 }, 'average');
    // 200 ms of stream; one event-loop turn per datagram (the old pacing) took about a second here.
    assert.ok(sent.sendMs < 400, `20,000 datagrams at 100,000/s took ${sent.sendMs.toFixed(0)} ms`);
    assert.ok(sent.lateness.p50 < 2, `median lateness ${sent.lateness.p50} ms`);
  });

  it('catches up in bursts of at most 256 datagrams, with the event loop served between them', async () => {
    // The number of event-loop turns so far: a chain of setImmediate callbacks, one per turn.
    let turn = 0;
    let ticking = true;
    const tick = () => {
      turn++;
      if (ticking) setImmediate(tick);
    };
    setImmediate(tick);
    const perTurn = new Map<number, number>();
    const member: DatagramSender = {
      send(type, _seq, _payload, sent) {
        if (type === 'data') perTurn.set(turn, (perTurn.get(turn) ?? 0) + 1);
        queueMicrotask(() => sent?.(null));
      },
    };
    // Far above what any host sends: the sender is always behind, so every turn is a full burst.
    await sendStream(member, { datagrams: 5_000, datagramBytes: 64, rate: 1e9 }, 'average');
    ticking = false;
    assert.equal(Math.max(...perTurn.values()), 256);
    assert.ok(perTurn.size >= Math.ceil(5_000 / 256), `${perTurn.size} turns`);
  });

  it('counts what the local kernel refused as send errors, not as sent', async () => {
    const member = recorder(new Set([3, 7]));
    const sent = await sendStream(member, { datagrams: 10, datagramBytes: 100, rate: 10_000 });
    assert.deepEqual([sent.attempted, sent.sendErrors, sent.sent], [10, 2, 8]);
  });
});
