import { setTimeout as sleep } from 'node:timers/promises';
import { lookup } from 'node:dns/promises';
import { encodeControl, type Endpoint } from '@lab/protocol';
import type { Logger } from '@lab/runtime';
import type { ChatResult } from '@lab/results';
import { ChatArrivals } from './chat-arrivals.ts';
import type { LiveReporter } from './live-reporter.ts';
import { TcpFileClient } from './tcp-client.ts';
import { UdpMember } from './udp-member.ts';

export interface ChatExperimentOptions {
  endpoint: Endpoint;
  relayHost: string;
  relayPort: number;
  /** The UDP room (the relay's rooms are numbers) and the TCP room's name is made from it. */
  room: number;
  lines: number;
  intervalMs: number;
  /** How long the UDP listener waits for stragglers after the last line. */
  drainMs: number;
  /** How long the TCP listener may take to get every line after the last was sent (it resends until then). */
  tcpWaitMs: number;
  connectTimeoutMs: number;
  log: Logger;
  live?: LiveReporter;
}

const TEXT = /^line (\d+)$/;

/**
 * The chat contrast: a speaker and a listener in a TCP chat room on the server, and a speaker and a
 * listener in a UDP room on the relay (unicast), all in this process; the speakers send "line 1",
 * "line 2", … at the same moments, one every `intervalMs`; the listeners record what came, when, and in
 * what order. TCP's listener is given `tcpWaitMs` after the last line to get them all; UDP's, `drainMs`.
 */
export async function runChatExperiment(options: ChatExperimentOptions): Promise<ChatResult> {
  const { log, lines } = options;
  const tcpRoom = `experiment-chat-${options.room}`;
  let startedAt = 0;
  const tcp = new ChatArrivals(lines);
  const udp = new ChatArrivals(lines);
  const record = (transport: 'tcp' | 'udp', line: number) => {
    const arrival = (transport === 'tcp' ? tcp : udp).record(line, performance.now() - startedAt);
    if (arrival) options.live?.tell({ kind: 'chat', transport, of: lines, line: arrival.line, ms: arrival.ms, arrival: arrival.kind });
  };
  const connect = () => TcpFileClient.connect({ endpoint: options.endpoint, log, connectTimeoutMs: options.connectTimeoutMs });
  const clients: TcpFileClient[] = [];
  const members: UdpMember[] = [];
  try {
    const tcpSpeaker = await connect();
    clients.push(tcpSpeaker);
    const tcpListener = await connect();
    clients.push(tcpListener);
    for (const client of clients) {
      client.send({ type: 'chat-join', room: tcpRoom });
      await client.expect('chat-joined');
    }
    const { address } = await lookup(options.relayHost, { family: 4 });
    const common = { relay: { address, port: options.relayPort }, room: options.room, mode: 'unicast' as const, log, joinTimeoutMs: options.connectTimeoutMs };
    const udpSpeaker = await UdpMember.open(common);
    members.push(udpSpeaker);
    const udpListener = await UdpMember.open({
      ...common,
      // Only the speaker's chat lines: a number carried by the datagram's header, not its text.
      onDatagram: (datagram) => {
        if (datagram.type === 'chat' && datagram.sender === udpSpeaker.sender) record('udp', Number(datagram.seq));
      },
    });
    members.push(udpListener);
    await Promise.all(members.map((member) => member.join()));
    log.info('chat-joined', { msg: `chat: a speaker and a listener in TCP room ${tcpRoom} and UDP room ${options.room}`, tcpRoom, udpRoom: options.room });

    // A connection that fails while the lines come is seen as lines that never came.
    const heard = (async () => {
      while (!tcp.complete) {
        const message = await tcpListener.nextMessage();
        if (message === null) return;
        if (message.type === 'chat') record('tcp', Number(TEXT.exec(message.text)?.[1] ?? 0));
      }
    })().catch((error: unknown) => log.warn('chat-listener', { error }));

    const sentMs: number[] = [];
    startedAt = performance.now();
    for (let n = 1; n <= lines; n++) {
      const due = (n - 1) * options.intervalMs;
      const wait = startedAt + due - performance.now();
      if (wait > 0) await sleep(wait);
      sentMs.push(performance.now() - startedAt);
      const text = `line ${n}`;
      tcpSpeaker.send({ type: 'chat', text });
      udpSpeaker.send('chat', BigInt(n), encodeControl({ name: 'speaker', text }));
    }
    // The wait ends as soon as every line is in: its timer must not keep the process alive after that.
    const waited = new AbortController();
    const timeLimit = sleep(options.tcpWaitMs, undefined, { signal: waited.signal }).catch(() => {});
    await Promise.all([Promise.race([heard, timeLimit]).finally(() => waited.abort()), sleep(options.drainMs)]);
    return {
      lines,
      intervalMs: options.intervalMs,
      sentMs,
      tcp: { room: tcpRoom, arrivals: tcp.list, missing: tcp.missing() },
      udp: { room: options.room, arrivals: udp.list, missing: udp.missing() },
    };
  } finally {
    await Promise.all([...clients.map((client) => client.close(1000)), ...members.map((member) => member.close())]);
  }
}
