import { lookup } from 'node:dns/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { DATAGRAM_HEADER_BYTES } from '@lab/protocol';
import type { Logger } from '@lab/runtime';
import { StreamStats, type StreamSummary } from './stream-stats.ts';
import { UdpMember } from './udp-member.ts';

export interface UdpExperimentOptions {
  relayHost: string;
  relayPort: number;
  room: number;
  receivers: number;
  datagrams: number;
  /** Bytes per datagram, header included. */
  datagramBytes: number;
  /** Datagrams per second. */
  rate: number;
  /** How long receivers keep listening after the last datagram was sent. */
  drainMs: number;
  joinTimeoutMs: number;
  log: Logger;
}

export interface UdpReceiverResult extends StreamSummary {
  receiver: number;
  localPort: number;
}

export interface UdpExperimentResult {
  mode: 'unicast';
  relay: string;
  room: number;
  datagramBytes: number;
  rate: number;
  sent: number;
  sendErrors: number;
  sendMs: number;
  receivers: UdpReceiverResult[];
}

/**
 * Sends `datagrams` numbered datagrams through the relay to `receivers` members of one room.
 * The sender is paced smoothly: datagram i leaves at start + i/rate, never in bursts to catch up on
 * more than the timer's own granularity, because a burst can overflow a queue and create loss that is
 * the sender's doing, not the network's. Nothing is retransmitted: what is lost stays lost.
 */
export async function runUdpExperiment(options: UdpExperimentOptions): Promise<UdpExperimentResult> {
  const { log } = options;
  const { address } = await lookup(options.relayHost, { family: 4 });
  const relay = { address, port: options.relayPort };
  const memberOptions = { relay, room: options.room, log, joinTimeoutMs: options.joinTimeoutMs };

  const stats = Array.from({ length: options.receivers }, () => new StreamStats());
  const receivers: UdpMember[] = [];
  let sender: UdpMember | null = null;
  try {
    for (const s of stats) {
      receivers.push(await UdpMember.open({ ...memberOptions, onData: (d, arrivalUs) => s.record(d.seq, d.sendTimeUs, arrivalUs) }));
    }
    sender = await UdpMember.open(memberOptions);
    await Promise.all([...receivers, sender].map((member) => member.join()));
    log.info('udp-joined', { msg: `${receivers.length} receivers and 1 sender joined room ${options.room} on ${address}:${options.relayPort}` });

    const payload = Buffer.alloc(options.datagramBytes - DATAGRAM_HEADER_BYTES, 0x55);
    const intervalMs = 1000 / options.rate;
    let sendErrors = 0;
    const started = performance.now();
    for (let i = 0; i < options.datagrams; i++) {
      const waitMs = started + i * intervalMs - performance.now();
      if (waitMs >= 1) await sleep(waitMs);
      sender.send('data', BigInt(i), payload, (error) => {
        if (error) sendErrors++;
      });
    }
    const sendMs = performance.now() - started;
    log.info('udp-sent', { msg: `sent ${options.datagrams} datagrams of ${options.datagramBytes} bytes in ${Math.round(sendMs)} ms`, sendErrors });

    // Listen on for the stragglers, but stop early once every receiver has every datagram.
    const drainEnd = performance.now() + options.drainMs;
    while (performance.now() < drainEnd && stats.some((s) => s.unique < options.datagrams)) await sleep(10);

    return {
      mode: 'unicast',
      relay: `${address}:${options.relayPort}`,
      room: options.room,
      datagramBytes: options.datagramBytes,
      rate: options.rate,
      sent: options.datagrams,
      sendErrors,
      sendMs,
      receivers: stats.map((s, i) => ({ receiver: i + 1, localPort: receivers[i]!.localPort, ...s.summary(options.datagrams) })),
    };
  } finally {
    await Promise.all([...receivers, ...(sender ? [sender] : [])].map((member) => member.close()));
  }
}
