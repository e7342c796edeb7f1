import { lookup } from 'node:dns/promises';
import { setImmediate as yieldToIo, setTimeout as sleep } from 'node:timers/promises';
import { DATAGRAM_HEADER_BYTES, type Datagram } from '@lab/protocol';
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

/** Per receiver; its `sent` counts the datagrams the sender's kernel accepted (sent minus send errors). */
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
 * The sender is paced: datagram i is due at start + i/rate. A timer that wakes late lets the datagrams
 * that fell due meanwhile go out back to back (yielding to I/O between each), so bursts are as short as
 * the timer's lateness allows (about 1 ms, so ~rate/1000 datagrams): a long burst can overflow a queue
 * and create loss that is the sender's doing, not the network's. Nothing is retransmitted.
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
    sender = await UdpMember.open(memberOptions);
    const streamId = sender.sender;
    for (const s of stats) {
      // Only this run's stream is counted: another sender in the same room is not ours to judge.
      const onData = (d: Datagram, arrivalUs: bigint) => d.sender === streamId && s.record(d.seq, d.sendTimeUs, arrivalUs);
      receivers.push(await UdpMember.open({ ...memberOptions, onData }));
    }
    await Promise.all([...receivers, sender].map((member) => member.join()));
    log.info('udp-joined', { msg: `${receivers.length} receivers and 1 sender joined room ${options.room} on ${address}:${options.relayPort}` });

    const payload = Buffer.alloc(options.datagramBytes - DATAGRAM_HEADER_BYTES, 0x55);
    const intervalMs = 1000 / options.rate;
    let sendErrors = 0;
    let pending = 0;
    const started = performance.now();
    for (let i = 0; i < options.datagrams; i++) {
      const waitMs = started + i * intervalMs - performance.now();
      // Timers have about 1 ms granularity; below that, yield anyway, so the receivers (same event
      // loop) read their sockets between sends instead of letting the kernel queue overflow.
      if (waitMs >= 1) await sleep(waitMs);
      else await yieldToIo();
      pending++;
      sender.send('data', BigInt(i), payload, (error) => {
        pending--;
        if (error) sendErrors++;
      });
    }
    while (pending > 0) await yieldToIo();
    const sendMs = performance.now() - started;
    // A datagram the local kernel refused never reached the network: it is a send error, not a loss.
    const handedToKernel = options.datagrams - sendErrors;
    log.info('udp-sent', { msg: `sent ${options.datagrams} datagrams of ${options.datagramBytes} bytes in ${Math.round(sendMs)} ms`, sendErrors });

    // Listen on for the stragglers, but stop early once every receiver has every datagram.
    const drainEnd = performance.now() + options.drainMs;
    while (performance.now() < drainEnd && stats.some((s) => s.unique < handedToKernel)) await sleep(10);

    return {
      mode: 'unicast',
      relay: `${address}:${options.relayPort}`,
      room: options.room,
      datagramBytes: options.datagramBytes,
      rate: options.rate,
      sent: options.datagrams,
      sendErrors,
      sendMs,
      receivers: stats.map((s, i) => ({ receiver: i + 1, localPort: receivers[i]!.localPort, ...s.summary(handedToKernel) })),
    };
  } finally {
    await Promise.all([...receivers, ...(sender ? [sender] : [])].map((member) => member.close()));
  }
}
