import { lookup } from 'node:dns/promises';
import { createInterface } from 'node:readline';
import { createLogger, type Logger, type OptionValues } from '@lab/runtime';
import { counterDelta, readUdpHostCounters } from '@lab/host-counters';
import type { receiveOptions, streamOptions, udpChatOptions, udpRoomOptions } from './config.ts';
import { UdpChat } from './udp-chat.ts';

import { UdpMember, type UdpMemberOptions } from './udp-member.ts';
import { sendStream, StreamReceiver } from './udp-stream.ts';

type Room = OptionValues<typeof udpRoomOptions>;

async function memberOptions(config: Room, log: Logger): Promise<UdpMemberOptions> {
  const { address } = await lookup(config.relay, { family: 4 });
  return { relay: { address, port: config.relayPort }, room: config.room, mode: config.mode, log, joinTimeoutMs: config.joinTimeoutMs };
}

function print(json: boolean, value: object, text: string): void {
  process.stdout.write(json ? `${JSON.stringify(value)}\n` : `${text}\n`);
}

/** `client stream`: one paced, numbered stream into a room, then `end`. */
export async function stream(config: OptionValues<typeof streamOptions>): Promise<number> {
  const log = createLogger('client', config, process.stderr);
  // Connected to the relay: each datagram leaves inside send(), when its time is stamped.
  const member = await UdpMember.open({ ...(await memberOptions(config, log)), connect: true });
  try {
    await member.join();
    const sent = await sendStream(member, config);
    const result = { mode: config.mode, room: config.room, sender: member.sender, ...sent };
    print(config.json, result, `${config.mode} room ${config.room}: sent ${sent.attempted} datagrams of ${config.datagramBytes} B in ${Math.round(sent.sendMs)} ms (${sent.sendErrors} send errors)`);
    return 0;
  } finally {
    await member.close();
  }
}

/** `client receive`: joins a room, counts one stream until its end, prints what arrived. */
export async function receive(config: OptionValues<typeof receiveOptions>): Promise<number> {
  const log = createLogger('client', config, process.stderr);
  const receiver = new StreamReceiver(null, config.lateMs);
  const options = await memberOptions(config, log);
  const member = await UdpMember.open({ ...options, onDatagram: receiver.onDatagram, ...(config.receiveBufferBytes ? { receiveBufferBytes: config.receiveBufferBytes } : {}) });
  try {
    const joined = await member.join();
    const listen = config.mode === 'unicast' ? `:${member.localPort}` : `${joined.address}:${joined.port}`;
    const before = await readUdpHostCounters();
    // The readiness line: a sender may start now.
    log.info('receiving', { msg: `receiving room ${config.room} (${config.mode}) on ${listen}`, room: config.room, mode: config.mode });
    await receiver.finish({ drainMs: config.drainMs, idleMs: 2000, timeoutMs: config.timeoutMs });
    const host = counterDelta(before, await readUdpHostCounters());
    // Without an `end` (all its copies lost), the highest number seen is the best lower bound of what was sent.
    const summary = receiver.summary(receiver.stats.atLeastSent);
    const result = { mode: config.mode, room: config.room, listen, announced: receiver.sent, ...summary, otherSenders: receiver.otherSenders, host };
    print(
      config.json,
      result,
      `${config.mode} room ${config.room}: ${summary.unique} of ${receiver.sent ?? '?'} received, ${summary.lost} lost, ${summary.duplicates} duplicated, ${summary.outOfOrder} reordered, ${summary.late} late, jitter ${summary.jitterMs.toFixed(3)} ms`,
    );
    return 0;
  } finally {
    await member.close();
  }
}

/** `client udp-chat`: the UDP twin of `client chat`, showing what the network did to each message. */
export async function udpChat(config: OptionValues<typeof udpChatOptions>): Promise<number> {
  const log = createLogger('client', config, process.stderr);
  let chat: UdpChat | null = null;
  const member = await UdpMember.open({ ...(await memberOptions(config, log)), onDatagram: (d) => chat?.onDatagram(d) });
  chat = new UdpChat(member, config.name, (line) => process.stdout.write(`${line}\n`));
  try {
    await member.join();
    process.stderr.write(`in room ${config.room} (${config.mode}); type a line to send it, Ctrl-D to leave\n`);
    const input = createInterface({ input: process.stdin, terminal: false });
    for await (const line of input) if (line.trim() !== '') chat.say(line);
    process.stderr.write(`left: ${chat.seen.messages} messages shown, ${chat.seen.lost} lost, ${chat.seen.duplicates} duplicated, ${chat.seen.reordered} reordered\n`);
    return 0;
  } finally {
    await member.close();
  }
}
