#!/usr/bin/env node
// `npm run bench:udp [-- --rates 10000,40000,80000,150000 --seconds 3 --bytes 512 --parts floor,sender,relay,fanout,flood]`: the lab's UDP parts
// against iperf3 -u at the same datagram size and rates, in one run, on the same link (loopback), each
// part in a process of its own (scripts/bench-udp-peer.ts) as in the lab:
//   0. the floor: what one datagram costs this machine, in C (iperf3 as fast as it can) and through a
//      bare Node.js socket (sending as fast as it can, and only counting what arrives);
//   1. sender and receiver, no relay: the lab's paced sender and counting receiver against iperf3's;
//   2. the relay: the lab's sender through the relay (rooms, membership, limits) to one member, and the
//      same through a plain UDP forwarder (no checks at all), so the relay's own cost shows;
//   3. fan-out: one stream at --fanout-rate into rooms of 1, 4 and 16 members;
//   4. a flood: one source sends as fast as it can into its room while another source streams 1000/s
//      into another room through the same relay, with the relay's default per-source limit.
// Every loss is split by where it happened: a socket's receive buffer (the kernel's per-socket drops,
// /proc/net/udp: the relay's, or a receiver's), the relay's own decisions (its counters), the sender's
// host (send errors); on loopback nothing else can lose a datagram. Results go into docs/benchmarks.md.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';

import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { readUdpSocketDrops } from '@lab/host-counters';
import { startService, type ServiceProcess } from '../lab/service-process.ts';
import { iperf3, requireIperf3 } from './bench-support.ts';

const { values } = parseArgs({
  options: {
    rates: { type: 'string', default: '10000,40000,80000,150000' },
    seconds: { type: 'string', default: '3' },
    bytes: { type: 'string', default: '512' },
    'fanout-rate': { type: 'string', default: '10000' },
    parts: { type: 'string', default: 'floor,sender,relay,fanout,flood' },
  },
});
const PARTS = ['floor', 'sender', 'relay', 'fanout', 'flood'] as const;
const parts = new Set(values.parts.split(','));
if ([...parts].some((part) => !(PARTS as readonly string[]).includes(part))) throw new Error(`bad --parts: a comma-separated list of ${PARTS.join(', ')}`);
const rates = values.rates.split(',').map(Number);
const seconds = Number(values.seconds);
const datagramBytes = Number(values.bytes);
const fanoutRate = Number(values['fanout-rate']);
if (rates.some((r) => !(r > 0)) || !(seconds > 0) || !(datagramBytes >= 64 && datagramBytes <= 1472) || !(fanoutRate > 0)) {
  throw new Error('bad --rates, --seconds, --bytes or --fanout-rate');
}
const PEER = join(import.meta.dirname, 'bench-udp-peer.ts');
/** How long a receiver waits at most: it ends when the sender's `end` says all came, so this only bounds a sender far slower than asked. */
const receiverSeconds = 4 * seconds + 10;

interface Sent {
  attempted: number;
  sendErrors: number;
  sendMs: number;
  pps: number;
  cpuSeconds: number;
  lateness: { p50: number; p99: number };
}
interface Received {
  members: { unique: number; lost: number; jitterMs: number }[];
  socketDrops: number;
  cpuSeconds: number;
}

/** A peer process: its `ready` payload, then its `result`. */
function peer(args: string[]): { ready: Promise<Record<string, unknown>>; result: Promise<Record<string, unknown>>; child: ChildProcessWithoutNullStreams } {
  const child = spawn(process.execPath, [PEER, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const lines = createInterface({ input: child.stdout });
  const said = (kind: string) =>
    new Promise<Record<string, unknown>>((resolve, reject) => {
      lines.on('line', (line) => {
        if (line.startsWith(`${kind} `)) resolve(JSON.parse(line.slice(kind.length + 1)) as Record<string, unknown>);
      });
      // 'close', not 'exit': the last line of its stdout may still be on its way when it exits.
      child.once('close', (code) => reject(new Error(`bench peer ${args[0]} exited (${code}) before its ${kind}: ${stderr}`)));
    });
  return { ready: said('ready'), result: said('result'), child };
}

async function startRelay(extra: string[] = []): Promise<{ relay: ServiceProcess; port: number }> {
  const relay = await startService('udp-relay', ['--host', '127.0.0.1', '--port', '0', '--stats-interval-ms', '0', ...extra]);
  return { relay, port: Number(relay.endpoints[0]!.split(':').at(-1)) };
}

/** The relay's last counters (it logs them when it stops) and its socket's drops, read before it stops. */
async function stopRelay(relay: ServiceProcess, port: number) {
  const socketDrops = (await readUdpSocketDrops(port)) ?? 0;
  await relay.stop();
  const stats = relay.logs.filter((entry) => entry.event === 'stats').at(-1) as { received: number; forwarded: number; sendErrors: number; dropped: Record<string, number> };
  const dropped = Object.values(stats.dropped).reduce((sum, n) => sum + n, 0);
  return { socketDrops, received: stats.received, forwarded: stats.forwarded, sendErrors: stats.sendErrors, dropped, rateLimited: stats.dropped.LAB_ERR_RATE_LIMITED ?? 0 };
}

/** Runs receivers and one sender; the sender starts once every receiver is ready. */
async function stream(sendArgs: string[], receiveArgs: string[][]): Promise<{ sent: Sent; received: Received[] }> {
  const receivers = receiveArgs.map((args) => peer(['receive', '--seconds', String(receiverSeconds), ...args]));
  await Promise.all(receivers.map((r) => r.ready));
  const sender = peer(['send', '--bytes', String(datagramBytes), ...sendArgs]);
  await sender.ready;
  sender.child.stdin.write('go\n');
  const sent = (await sender.result) as unknown as Sent;
  const received = (await Promise.all(receivers.map((r) => r.result))) as unknown as Received[];
  return { sent, received };
}

const pct = (part: number, whole: number) => (whole > 0 ? (100 * part) / whole : 0);
const unique = (received: Received[]) => received.flatMap((r) => r.members).reduce((sum, m) => sum + m.unique, 0);
const receiverDrops = (received: Received[]) => received.reduce((sum, r) => sum + r.socketDrops, 0);
/** CPU seconds as a share of one core over the stream's real duration (the sender's time). */
const cpu = (cpuSeconds: number, streamMs: number) => `${Math.round(pct(cpuSeconds, streamMs / 1000))}%`;
const col = (value: string | number, width: number) => String(value).padStart(width);
/** CPU microseconds per datagram read: what one costs the relay, whatever else runs on the machine. */
const perDatagram = (cpuSeconds: number, datagrams: number) => (datagrams > 0 ? ((cpuSeconds * 1e6) / datagrams).toFixed(1) : '-');

/** CPU microseconds per datagram from iperf3's own figures: its share of a core over the test. */
const iperf3PerDatagram = (percent: number, seconds: number, datagrams: number) => perDatagram((percent / 100) * seconds, datagrams);

async function floor(lines: string[]): Promise<void> {
  lines.push('', '0. the floor: what one datagram costs this machine; iperf3 -u -b 0 (C, as fast as it can) against a bare Node.js socket sending as fast as it can to one that only counts (no pacing, no decoding)');
  lines.push('path     sent pps  received %  receiver socket drops  send µs/datagram  receive µs/datagram   (µs: CPU time)');
  const theirs = (await iperf3(['-u', '-b', '0', '-l', String(datagramBytes), '-t', String(seconds)])) as {
    end: { sum: { packets: number; lost_packets: number; seconds: number }; cpu_utilization_percent: { host_total: number; remote_total: number } };
  };
  const { sum, cpu_utilization_percent: cpuShare } = theirs.end;
  const theirSend = iperf3PerDatagram(cpuShare.host_total, sum.seconds, sum.packets);
  const theirReceive = iperf3PerDatagram(cpuShare.remote_total, sum.seconds, sum.packets - sum.lost_packets);
  lines.push(`iperf3  ${col((sum.packets / sum.seconds).toFixed(0), 9)}  ${col(pct(sum.packets - sum.lost_packets, sum.packets).toFixed(2), 10)}  ${col('-', 21)}  ${col(theirSend, 16)}  ${col(theirReceive, 19)}`);
  const sink = peer(['sink']);
  const { port } = (await sink.ready) as { port: number };
  const blast = peer(['blast', '--to', `127.0.0.1:${port}`, '--count', String(150_000 * seconds), '--bytes', String(datagramBytes)]);
  await blast.ready;
  blast.child.stdin.write('go\n');
  const sent = (await blast.result) as unknown as Sent;
  await new Promise((resolve) => setTimeout(resolve, 500)); // what is queued still, the sink reads
  sink.child.stdin.end();
  const got = (await sink.result) as { received: number; socketDrops: number; cpuSeconds: number };
  const ourSend = perDatagram(sent.cpuSeconds, sent.attempted);
  const ourReceive = perDatagram(got.cpuSeconds, got.received);
  lines.push(`node.js ${col(sent.pps.toFixed(0), 9)}  ${col(pct(got.received, sent.attempted).toFixed(2), 10)}  ${col(got.socketDrops, 21)}  ${col(ourSend, 16)}  ${col(ourReceive, 19)}`);
  const ceiling = (send: string, receive: string) => {
    const rate = 1e6 / (Number(send) + Number(receive));
    return Number.isFinite(rate) ? Math.round(rate).toLocaleString('en-US') : '-';
  };
  lines.push(`a forwarder (the relay, to one member) costs at least a receive and a send a datagram: on one whole core at most ${ceiling(theirSend, theirReceive)}/s in C, ${ceiling(ourSend, ourReceive)}/s through Node.js sockets`);
  process.stderr.write('bench-udp: floor done\n');
}

async function senderAndReceiver(lines: string[]): Promise<void> {
  lines.push('', '1. sender -> receiver, no relay (iperf3 -u against the lab\'s paced sender and counting receiver)');
  lines.push('asked pps | iperf3 sent pps  lost %  jitter ms | lab sent pps  ratio  lost %  jitter ms  late p99 ms  receiver socket drops  sender cpu  receiver cpu');
  for (const rate of rates) {
    const bits = rate * datagramBytes * 8;
    const theirs = ((await iperf3(['-u', '-b', String(bits), '-l', String(datagramBytes), '-t', String(seconds)])) as { end: { sum: { packets: number; lost_percent: number; jitter_ms: number; seconds: number } } }).end.sum;
    const theirPps = theirs.packets / theirs.seconds;
    const receiver = peer(['receive', '--raw', '--seconds', String(receiverSeconds)]);
    const { ports } = (await receiver.ready) as { ports: number[] };
    const sender = peer(['send', '--raw', '--to', `127.0.0.1:${ports[0]}`, '--rate', String(rate), '--count', String(rate * seconds), '--bytes', String(datagramBytes)]);
    await sender.ready;
    sender.child.stdin.write('go\n');
    const sent = (await sender.result) as unknown as Sent;
    const got = (await receiver.result) as unknown as Received;
    const member = got.members[0]!;
    // Lost against what the sender says it sent, not what the receiver learnt from `end` (which can be lost too).
    const lost = sent.attempted - sent.sendErrors - member.unique;
    lines.push(
      `${col(rate, 9)} | ${col(theirPps.toFixed(0), 15)}  ${col(theirs.lost_percent.toFixed(2), 6)}  ${col(theirs.jitter_ms.toFixed(3), 9)} | ${col(sent.pps.toFixed(0), 12)}  ${col((sent.pps / theirPps).toFixed(2), 5)}  ${col(pct(lost, sent.attempted).toFixed(2), 6)}  ${col(member.jitterMs.toFixed(3), 9)}  ${col(sent.lateness.p99.toFixed(3), 11)}  ${col(got.socketDrops, 21)}  ${col(cpu(sent.cpuSeconds, sent.sendMs), 10)}  ${col(cpu(got.cpuSeconds, sent.sendMs), 12)}`,
    );
    process.stderr.write(`bench-udp: sender and receiver at ${rate}/s done\n`);
  }
}

async function relayAlone(lines: string[]): Promise<void> {
  lines.push('', '2. sender -> relay -> 1 member, against sender -> plain forwarder -> receiver (the relay\'s per-source limit raised out of the way)');
  lines.push('asked pps | path        sent pps  delivered %  relay socket drops  relay dropped  relay send errors  receiver socket drops  relay cpu  µs/datagram');
  for (const rate of rates) {
    const { relay, port } = await startRelay(['--rate-packets', '10000000', '--rate-bytes', '10000000000']);
    const cpuBefore = await processCpu(relay);
    const run = await stream(['--relay', `127.0.0.1:${port}`, '--room', '1', '--rate', String(rate), '--count', String(rate * seconds)], [['--relay', `127.0.0.1:${port}`, '--room', '1']]);
    const relayCpu = (await processCpu(relay)) - cpuBefore;
    const counters = await stopRelay(relay, port);
    lines.push(
      `${col(rate, 9)} | relay     ${col(run.sent.pps.toFixed(0), 10)}  ${col(pct(unique(run.received), run.sent.attempted).toFixed(2), 11)}  ${col(counters.socketDrops, 18)}  ${col(counters.dropped, 13)}  ${col(counters.sendErrors, 17)}  ${col(receiverDrops(run.received), 21)}  ${col(cpu(relayCpu, run.sent.sendMs), 9)}  ${col(perDatagram(relayCpu, counters.received), 11)}`,
    );
    const receiver = peer(['receive', '--raw', '--seconds', String(receiverSeconds)]);
    const { ports } = (await receiver.ready) as { ports: number[] };
    const forwarder = peer(['forward', '--to', `127.0.0.1:${ports[0]}`]);
    const { port: forwardPort } = (await forwarder.ready) as { port: number };
    const sender = peer(['send', '--raw', '--to', `127.0.0.1:${forwardPort}`, '--rate', String(rate), '--count', String(rate * seconds), '--bytes', String(datagramBytes)]);
    await sender.ready;
    sender.child.stdin.write('go\n');
    const sent = (await sender.result) as unknown as Sent;
    const got = (await receiver.result) as unknown as Received;
    forwarder.child.stdin.end();
    const forwarded = (await forwarder.result) as { received: number; sendErrors: number; socketDrops: number; cpuSeconds: number };
    lines.push(
      `${' '.repeat(9)} | forwarder ${col(sent.pps.toFixed(0), 10)}  ${col(pct(got.members[0]!.unique, sent.attempted).toFixed(2), 11)}  ${col(forwarded.socketDrops, 18)}  ${col('-', 13)}  ${col(forwarded.sendErrors, 17)}  ${col(got.socketDrops, 21)}  ${col(cpu(forwarded.cpuSeconds, sent.sendMs), 9)}  ${col(perDatagram(forwarded.cpuSeconds, forwarded.received), 11)}`,
    );
    process.stderr.write(`bench-udp: relay at ${rate}/s done\n`);
  }
}

/** CPU seconds a service process used so far (utime + stime, proc(5)). */
async function processCpu(service: ServiceProcess): Promise<number> {
  const fields = (await readFile(`/proc/${service.child.pid}/stat`, 'utf8')).split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

async function fanOut(lines: string[]): Promise<void> {
  lines.push('', `3. fan-out: one stream of ${fanoutRate}/s into a room of 1, 4 and 16 members (four to a receiving process, each from an address of its own)`);
  lines.push('members | sent pps  relay out pps  delivered %  relay socket drops  relay dropped  relay send errors  receiver socket drops  relay cpu');
  for (const members of [1, 4, 16]) {
    const { relay, port } = await startRelay(['--rate-packets', '10000000', '--rate-bytes', '10000000000']);
    // Each receiving process from an address of its own: the relay counts memberships per source address.
    const groups = Array.from({ length: Math.ceil(members / 4) }, (_, i) => ['--relay', `127.0.0.1:${port}`, '--room', '1', '--members', String(Math.min(4, members - 4 * i)), '--bind', `127.0.0.${10 + i}`]);
    const cpuBefore = await processCpu(relay);
    const run = await stream(['--relay', `127.0.0.1:${port}`, '--room', '1', '--rate', String(fanoutRate), '--count', String(fanoutRate * seconds)], groups);
    const relayCpu = cpu((await processCpu(relay)) - cpuBefore, run.sent.sendMs);
    const counters = await stopRelay(relay, port);
    lines.push(
      `${col(members, 7)} | ${col(run.sent.pps.toFixed(0), 8)}  ${col((counters.forwarded / (run.sent.sendMs / 1000)).toFixed(0), 13)}  ${col(pct(unique(run.received), run.sent.attempted * members).toFixed(2), 11)}  ${col(counters.socketDrops, 18)}  ${col(counters.dropped, 13)}  ${col(counters.sendErrors, 17)}  ${col(receiverDrops(run.received), 21)}  ${col(relayCpu, 9)}`,
    );
    process.stderr.write(`bench-udp: fan-out to ${members} done\n`);
  }
}

async function flood(lines: string[]): Promise<void> {
  lines.push('', '4. a flood: 127.0.0.2 sends as fast as it can into room 1; 127.0.0.1 streams 1000/s into room 2, to a member at 127.0.0.3 (the relay\'s default per-source limit)');
  const { relay, port } = await startRelay();
  const relayAt = `127.0.0.1:${port}`;
  const victimReceiver = peer(['receive', '--relay', relayAt, '--room', '2', '--bind', '127.0.0.3', '--seconds', String(receiverSeconds)]);
  await victimReceiver.ready;
  const flooder = peer(['send', '--relay', relayAt, '--room', '1', '--bind', '127.0.0.2', '--rate', '1000000000', '--count', String(300_000 * seconds), '--bytes', String(datagramBytes)]);
  const victim = peer(['send', '--relay', relayAt, '--room', '2', '--bind', '127.0.0.1', '--rate', '1000', '--count', String(1000 * seconds), '--bytes', String(datagramBytes)]);
  await Promise.all([flooder.ready, victim.ready]);
  const cpuBefore = await processCpu(relay);
  flooder.child.stdin.write('go\n');
  await new Promise((resolve) => setTimeout(resolve, 200));
  victim.child.stdin.write('go\n');
  const [flooded, streamed, got] = (await Promise.all([flooder.result, victim.result, victimReceiver.result])) as unknown as [Sent, Sent, Received];
  // Its share of one core over the flood (which outlasts the other room's stream).
  const relayCpu = cpu((await processCpu(relay)) - cpuBefore, Math.max(flooded.sendMs, streamed.sendMs));
  const counters = await stopRelay(relay, port);
  lines.push(
    `flood: ${flooded.attempted} datagrams in ${(flooded.sendMs / 1000).toFixed(1)} s (${flooded.pps.toFixed(0)}/s); the relay read ${counters.received}, refused ${counters.rateLimited} as LAB_ERR_RATE_LIMITED, and its socket dropped ${counters.socketDrops}; relay cpu ${relayCpu}`,
    `the other room: ${unique([got])} of ${streamed.attempted} delivered (${pct(unique([got]), streamed.attempted).toFixed(2)}%), receiver socket drops ${got.socketDrops}`,
  );
  process.stderr.write('bench-udp: flood done\n');
}

async function main(): Promise<void> {
  await requireIperf3();
  const lines = [`UDP, loopback, ${datagramBytes}-byte datagrams (UDP payload, as iperf3's -l), ${seconds} s per row; cpu: share of one core over the stream`];
  if (parts.has('floor')) await floor(lines);
  if (parts.has('sender')) await senderAndReceiver(lines);
  if (parts.has('relay')) await relayAlone(lines);
  if (parts.has('fanout')) await fanOut(lines);
  if (parts.has('flood')) await flood(lines);
  process.stdout.write(`${lines.join('\n')}\n`);
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`bench-udp: ${(error as Error).message}\n`);
    process.exit(1);
  },
);

