#!/usr/bin/env node
// One process of `npm run bench:udp`, so that sender, relay and receivers each have an event loop of
// their own, as in the lab (one container each). Roles:
//   send     a paced stream (the lab's sendStream) into a relay room, or straight to --to (--raw)
//   receive  --members K members of a room counting the stream (StreamReceiver), or one plain socket (--raw)
//   forward  a plain UDP forwarder to --to: what a relay costs without rooms, membership or limits
//   blast    a bare socket sending --count datagrams to --to as fast as it can: what a send costs Node.js
//   sink     a bare socket that only counts what arrives: what a receive costs Node.js
// Each prints `ready {json}` once set up, and `result {json}` at its end. A sender waits for a line on
// stdin before it sends; a forwarder and a sink run until their stdin closes.
import { createSocket, type Socket } from 'node:dgram';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { Writable } from 'node:stream';
import { parseArgs } from 'node:util';
import { decodeDatagram, encodeDatagram, type DatagramTypeName, type UdpAddress } from '@lab/protocol';
import { Logger } from '@lab/runtime';
import { readUdpSocketDrops } from '@lab/host-counters';
import { sendStream, StreamReceiver, UdpMember } from '@lab/client';

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: {
    relay: { type: 'string', default: '127.0.0.1:0' },
    to: { type: 'string', default: '127.0.0.1:0' },
    bind: { type: 'string', default: '127.0.0.1' },
    room: { type: 'string', default: '1' },
    rate: { type: 'string', default: '1000' },
    count: { type: 'string', default: '1000' },
    bytes: { type: 'string', default: '512' },
    members: { type: 'string', default: '1' },
    seconds: { type: 'string', default: '10' },
    raw: { type: 'boolean', default: false },
  },
});
const quiet = new Logger({ service: 'bench', level: 'error', stream: new Writable({ write: (_c, _e, done) => done() }) });
const address = (text: string): UdpAddress => {
  const [host, port] = text.split(':');
  return { address: host!, port: Number(port) };
};
const say = (kind: 'ready' | 'result', value: object) => process.stdout.write(`${kind} ${JSON.stringify(value)}\n`);
/** CPU seconds this process used (utime + stime, proc(5)), to show who was saturated. */
const cpuSeconds = () => {
  const fields = readFileSync('/proc/self/stat', 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
};
/** Waits for a line on stdin; if stdin closes first (the bench failed), this peer ends. */
const lineOnStdin = () =>
  new Promise<void>((resolve) => {
    const orphaned = () => process.exit(1);
    process.stdin.once('end', orphaned);
    process.stdin.once('data', () => {
      process.stdin.off('end', orphaned);
      resolve();
    });
  });

async function bound(host: string): Promise<Socket> {
  const socket = createSocket('udp4');
  socket.bind(0, host);
  await once(socket, 'listening');
  socket.setRecvBufferSize(4 << 20);
  return socket;
}

async function send(): Promise<void> {
  const shape = { datagrams: Number(values.count), datagramBytes: Number(values.bytes), rate: Number(values.rate) };
  let member: UdpMember | null = null;
  let sender: { send: UdpMember['send'] };
  if (values.raw) {
    const socket = await bound(values.bind);
    const to = address(values.to);
    const id = 7;
    sender = {
      send(type: DatagramTypeName, seq: bigint, payload: Buffer, sent?: (error: Error | null) => void) {
        const bytes = encodeDatagram({ type, flags: 0, room: 0, sender: id, seq, sendTimeUs: BigInt(Math.round((performance.timeOrigin + performance.now()) * 1000)), payload });
        socket.send(bytes, to.port, to.address, (error) => sent?.(error ?? null));
      },
    };
  } else {
    member = await UdpMember.open({ relay: address(values.relay), room: Number(values.room), mode: 'unicast', log: quiet, localAddress: values.bind });
    await member.join();
    sender = member;
  }
  say('ready', {});
  await lineOnStdin();
  const cpu = cpuSeconds();
  // Average pacing: the benchmark asks for more datagrams a second than a gap of its own each allows.
  const sent = await sendStream(sender, shape, 'average');
  say('result', { ...sent, pps: sent.attempted / (sent.sendMs / 1000), cpuSeconds: cpuSeconds() - cpu });
  await member?.close();
  process.exit(0);
}

async function receive(): Promise<void> {
  const count = Number(values.members);
  const receivers: StreamReceiver[] = [];
  const ports: number[] = [];
  const members: UdpMember[] = [];
  if (values.raw) {
    const receiver = new StreamReceiver(null, 50);
    const socket = await bound(values.bind);
    socket.on('message', (bytes) => {
      const decoded = decodeDatagram(bytes);
      if (decoded.ok) receiver.onDatagram(decoded.datagram, BigInt(Math.round((performance.timeOrigin + performance.now()) * 1000)));
    });
    receivers.push(receiver);
    ports.push(socket.address().port);
  } else {
    for (let i = 0; i < count; i++) {
      const receiver = new StreamReceiver(null, 50);
      const member = await UdpMember.open({ relay: address(values.relay), room: Number(values.room), mode: 'unicast', log: quiet, onDatagram: receiver.onDatagram, receiveBufferBytes: 4 << 20, localAddress: values.bind });
      await member.join();
      receivers.push(receiver);
      members.push(member);
      ports.push(member.localPort);
    }
  }
  const dropsBefore = await Promise.all(ports.map((port) => readUdpSocketDrops(port)));
  say('ready', { ports });
  const cpu = cpuSeconds();
  await Promise.all(receivers.map((r) => r.finish({ drainMs: 300, idleMs: 1500, timeoutMs: Number(values.seconds) * 1000 })));
  const dropsAfter = await Promise.all(ports.map((port) => readUdpSocketDrops(port)));
  const socketDrops = dropsAfter.reduce((sum: number, after, i) => sum + ((after ?? 0) - (dropsBefore[i] ?? 0)), 0);
  say('result', { members: receivers.map((r) => ({ ...r.summary(0), sent: r.sent })), socketDrops, cpuSeconds: cpuSeconds() - cpu });
  await Promise.all(members.map((m) => m.close()));
  process.exit(0);
}

async function forward(): Promise<void> {
  const socket = await bound(values.bind);
  const to = address(values.to);
  let received = 0;
  let sendErrors = 0;
  socket.on('message', (bytes) => {
    received++;
    socket.send(bytes, to.port, to.address, (error) => {
      if (error) sendErrors++;
    });
  });
  const port = socket.address().port;
  say('ready', { port });
  const cpu = cpuSeconds();
  process.stdin.resume();
  await once(process.stdin, 'end');
  say('result', { received, sendErrors, socketDrops: (await readUdpSocketDrops(port)) ?? 0, cpuSeconds: cpuSeconds() - cpu });
  process.exit(0);
}

async function blast(): Promise<void> {
  const socket = await bound(values.bind);
  const to = address(values.to);
  const count = Number(values.count);
  const bytes = Buffer.alloc(Number(values.bytes));
  let sendErrors = 0;
  // A callback on each send, as the relay's: it counts the errors UDP reports (udp(7)).
  const sent = (error: Error | null) => {
    if (error) sendErrors++;
  };
  say('ready', {});
  await lineOnStdin();
  const cpu = cpuSeconds();
  const started = performance.now();
  let attempted = 0;
  await new Promise<void>((resolve) => {
    // 256 a turn, then a turn of the event loop for the callbacks: as the lab's sender when it is behind.
    const turn = () => {
      for (let i = 0; i < 256 && attempted < count; i++, attempted++) socket.send(bytes, to.port, to.address, sent);
      if (attempted < count) setImmediate(turn);
      else setImmediate(resolve);
    };
    turn();
  });
  const sendMs = performance.now() - started;
  say('result', { attempted, sendErrors, sendMs, pps: attempted / (sendMs / 1000), cpuSeconds: cpuSeconds() - cpu });
  process.exit(0);
}

async function sink(): Promise<void> {
  const socket = await bound(values.bind);
  let received = 0;
  socket.on('message', () => received++);
  const port = socket.address().port;
  const dropsBefore = (await readUdpSocketDrops(port)) ?? 0;
  say('ready', { port });
  const cpu = cpuSeconds();
  process.stdin.resume();
  await once(process.stdin, 'end');
  say('result', { received, socketDrops: ((await readUdpSocketDrops(port)) ?? 0) - dropsBefore, cpuSeconds: cpuSeconds() - cpu });
  process.exit(0);
}

const roles: Record<string, () => Promise<void>> = { send, receive, forward, blast, sink };
const role = roles[positionals[0] ?? ''];
if (!role) throw new Error(`usage: bench-udp-peer.ts ${Object.keys(roles).join('|')} [options]`);
await role();
