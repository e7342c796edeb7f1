#!/usr/bin/env node
// `npm run bench:udp`: a paced UDP stream through the lab's relay (sender -> relay -> receiver, unicast)
// against iperf3 -u (sender -> receiver) on the same link (loopback), at the same packet rates and sizes,
// in one run: achieved rate, loss and jitter (both by RFC 3550). Results go into docs/benchmarks.md.
import { Writable } from 'node:stream';
import { parseArgs } from 'node:util';
import { Logger } from '@lab/runtime';
import { counterDelta, readUdpHostCounters } from '@lab/host-counters';
import { sendStream, StreamReceiver, UdpMember } from '@lab/client';
import { startService } from '../lab/service-process.ts';
import { iperf3, requireIperf3 } from './bench-support.ts';

const { values } = parseArgs({ options: { rates: { type: 'string', default: '2000,10000,40000' }, seconds: { type: 'string', default: '3' }, bytes: { type: 'string', default: '512' } } });
const rates = values.rates.split(',').map(Number);
const seconds = Number(values.seconds);
const datagramBytes = Number(values.bytes);
if (rates.some((r) => !(r > 0)) || !(seconds > 0) || !(datagramBytes >= 32 && datagramBytes <= 1472)) throw new Error('bad --rates, --seconds or --bytes');
const quiet = new Logger({ service: 'bench', level: 'error', stream: new Writable({ write: (_c, _e, done) => done() }) });

interface Row {
  pps: number;
  sentPps: number;
  lossPercent: number;
  jitterMs: number;
}

/** iperf3 -u at `pps` datagrams of `datagramBytes` per second (iperf3's -l is the UDP payload, as ours). */
async function reference(pps: number): Promise<Row> {
  const bits = pps * datagramBytes * 8;
  const out = (await iperf3(['-u', '-b', String(bits), '-l', String(datagramBytes), '-t', String(seconds)])) as {
    end: { sum: { packets: number; lost_percent: number; jitter_ms: number; seconds: number } };
  };
  const sum = out.end.sum;
  return { pps, sentPps: sum.packets / sum.seconds, lossPercent: sum.lost_percent, jitterMs: sum.jitter_ms };
}

async function lab(pps: number, relayPort: number, room: number): Promise<Row & { hostDrops: number | null }> {
  const relay = { address: '127.0.0.1', port: relayPort };
  const sender = await UdpMember.open({ relay, room, mode: 'unicast', log: quiet, receiveBufferBytes: 4 << 20 });
  const receiver = new StreamReceiver(sender.sender, 50);
  const member = await UdpMember.open({ relay, room, mode: 'unicast', log: quiet, onDatagram: receiver.onDatagram, receiveBufferBytes: 4 << 20 });
  try {
    await Promise.all([sender.join(), member.join()]);
    const before = await readUdpHostCounters();
    const sent = await sendStream(sender, { datagrams: Math.round(pps * seconds), datagramBytes, rate: pps });
    await receiver.finish({ drainMs: 500, idleMs: 500, timeoutMs: 5000 });
    const host = counterDelta(before, await readUdpHostCounters());
    const summary = receiver.summary(sent.sent);
    return { pps, sentPps: sent.attempted / (sent.sendMs / 1000), lossPercent: summary.lossPercent, jitterMs: summary.jitterMs, hostDrops: host?.rcvbufErrors ?? null };
  } finally {
    await Promise.all([sender.close(), member.close()]);
  }
}

async function main(): Promise<void> {
  await requireIperf3();
  const relay = await startService('udp-relay', ['--host', '127.0.0.1', '--port', '0', '--rate-packets', '1000000', '--rate-bytes', '2000000000']);
  const relayPort = Number(relay.endpoints[0]!.split(':').at(-1));
  const lines = [
    `UDP, loopback, ${datagramBytes}-byte datagrams, ${seconds} s per rate; iperf3: sender -> receiver; lab: sender -> relay -> receiver (unicast)`,
    'asked pps  iperf3 sent pps  loss %  jitter ms  |  lab sent pps  loss %  jitter ms  host drops',
  ];
  try {
    for (const [i, pps] of rates.entries()) {
      const theirs = await reference(pps);
      const ours = await lab(pps, relayPort, 500 + i);
      lines.push(
        `${String(pps).padStart(9)}  ${theirs.sentPps.toFixed(0).padStart(15)}  ${theirs.lossPercent.toFixed(2).padStart(6)}  ${theirs.jitterMs.toFixed(3).padStart(9)}  |  ${ours.sentPps.toFixed(0).padStart(12)}  ${ours.lossPercent.toFixed(2).padStart(6)}  ${ours.jitterMs.toFixed(3).padStart(9)}  ${String(ours.hostDrops ?? '?').padStart(10)}`,
      );
      process.stderr.write(`bench-udp: ${pps} pps done\n`);
    }
    process.stdout.write(`${lines.join('\n')}\n`);
  } finally {
    await relay.stop();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`bench-udp: ${(error as Error).message}\n`);
  process.exit(1);
});
