import { lookup } from 'node:dns/promises';
import type { DeliveryMode, UdpAddress } from '@lab/protocol';
import { logLevels, type Logger } from '@lab/runtime';
import { counterDelta, interfaceTowards, readInterfaceCounters, readUdpHostCounters, wireOverhead, type UdpHostCounters, type WireOverhead } from '@lab/host-counters';
import type { LiveReporter } from './live-reporter.ts';
import { SenderThread, type PacedSender } from './paced-sender.ts';
import { UdpMember } from './udp-member.ts';
import type { UdpExperimentResult, UdpModeResult } from '@lab/results';
import { StreamReceiver, type StreamShape } from './udp-stream.ts';

export interface UdpExperimentOptions extends StreamShape {
  relayHost: string;
  relayPort: number;
  /** Each mode uses its own room: room, room + 1, … */
  room: number;
  modes: DeliveryMode[];
  receivers: number;
  /** How long receivers listen after the end of the stream. */
  drainMs: number;
  lateMs: number;
  receiveBufferBytes?: number;
  joinTimeoutMs: number;
  log: Logger;
  /** Tells the live page each arrival (`client experiment --live-ms`); absent or off: nothing is told. */
  live?: LiveReporter;
}

/**
 * For each delivery mode, sends one numbered stream through the relay to `receivers` members of a
 * room, all in this process (each with its own socket), and counts what each received. The sender
 * runs on a thread of its own (PacedSender): its waits and the receivers' arrivals never delay each other.
 */
export async function runUdpExperiment(options: UdpExperimentOptions): Promise<UdpExperimentResult> {
  const { address } = await lookup(options.relayHost, { family: 4 });
  const modes: UdpModeResult[] = [];
  const thread = SenderThread.start(logLevels.find((level) => options.log.enabled(level)) ?? 'error');
  try {
    for (const [index, mode] of options.modes.entries()) modes.push(await runMode(options, thread, { address, port: options.relayPort }, mode, options.room + index));
  } finally {
    await thread.stop();
  }
  return { relay: `${address}:${options.relayPort}`, datagramBytes: options.datagramBytes, rate: options.rate, modes };
}

async function runMode(options: UdpExperimentOptions, thread: SenderThread, relay: UdpAddress, mode: DeliveryMode, room: number): Promise<UdpModeResult> {
  const { log } = options;
  const common = { relay, room, mode, joinTimeoutMs: options.joinTimeoutMs, ...(options.receiveBufferBytes ? { receiveBufferBytes: options.receiveBufferBytes } : {}) };
  const members: (UdpMember | PacedSender)[] = [];
  try {
    const sender = await thread.open(common);
    members.push(sender);
    const { live } = options;
    const receivers = Array.from(
      { length: options.receivers },
      (_, i) => new StreamReceiver(sender.sender, options.lateMs, live?.on ? (seq, kind) => live.arrival(mode, i + 1, options.datagrams, seq, kind) : undefined),
    );
    const listens: string[] = [];
    for (const receiver of receivers) members.push(await UdpMember.open({ ...common, log, onDatagram: receiver.onDatagram }));
    const joined = await Promise.all(members.map((member) => member.join()));
    for (const [i, payload] of joined.slice(1).entries()) listens.push(mode === 'unicast' ? `:${members[i + 1]!.localPort}` : `${payload.address}:${payload.port}`);
    log.info('udp-joined', { msg: `${mode}: ${receivers.length} receivers and 1 sender joined room ${room} on ${relay.address}:${relay.port}`, mode, room });

    const before = await readUdpHostCounters();
    const iface = interfaceTowards(relay.address);
    const wireBefore = iface ? await readInterfaceCounters(iface) : null;
    const sent = await sender.sendStream({ datagrams: options.datagrams, datagramBytes: options.datagramBytes, rate: options.rate });
    const wireAfter = iface ? await readInterfaceCounters(iface) : null;
    log.info('udp-sent', { msg: `${mode}: sent ${sent.attempted} datagrams of ${options.datagramBytes} bytes in ${Math.round(sent.sendMs)} ms`, sendErrors: sent.sendErrors });
    await Promise.all(receivers.map((r) => r.finish({ drainMs: options.drainMs, idleMs: options.drainMs, timeoutMs: options.drainMs + 5000 })));
    live?.flush();
    const host = counterDelta(before, await readUdpHostCounters());
    return {
      mode,
      room,
      attempted: sent.attempted,
      sendErrors: sent.sendErrors,
      sendMs: sent.sendMs,
      sendLateMs: sent.lateness,
      receivers: receivers.map((r, i) => ({ receiver: i + 1, listen: listens[i]!, ...r.summary(sent.sent) })),
      host,
      wire: iface && wireBefore && wireAfter ? wireOverhead(iface, wireBefore, wireAfter, sent.bytes) : null,
    };
  } finally {
    await Promise.all(members.map((member) => member.close()));
  }
}
