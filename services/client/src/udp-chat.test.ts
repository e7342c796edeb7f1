import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Writable } from 'node:stream';
import { Logger } from '@lab/runtime';
import { encodeControl } from '@lab/protocol';
import { UdpRelay } from '@lab/udp-relay';
import { UdpChat, type ChatSender } from './udp-chat.ts';
import { UdpMember } from './udp-member.ts';

const quiet = new Logger({ service: 'test', level: 'error', stream: new Writable({ write: (_c, _e, done) => done() }) });

/** A sender that loses some datagrams before they reach the socket, as an impaired network would. */
function dropping(member: UdpMember, drop: (seq: bigint) => boolean): ChatSender {
  return { sender: member.sender, send: (type, seq, payload) => (drop(seq) ? undefined : member.send(type, seq, payload)) };
}

/**
 * Alice and Bob in `room` through the relay; Alice sends `count` lines through `network` (which may
 * drop, duplicate or delay them); returns what Bob's chat printed, with Alice's id made readable.
 */
async function converse(port: number, room: number, count: number, network: (alice: UdpMember) => ChatSender, expectMessages: number) {
  const lines: string[] = [];
  const options = { relay: { address: '127.0.0.1', port }, room, mode: 'unicast' as const, log: quiet };
  const alice = await UdpMember.open(options);
  let bobChat: UdpChat | null = null;
  const bob = await UdpMember.open({ ...options, onDatagram: (d) => bobChat?.onDatagram(d) });
  bobChat = new UdpChat(bob, 'bob', (line) => lines.push(line));
  try {
    await Promise.all([alice.join(), bob.join()]);
    const aliceChat = new UdpChat(network(alice), 'alice', () => {});
    for (let i = 0; i < count; i++) {
      aliceChat.say(`line ${i}`);
      await sleep(15);
    }
    for (let i = 0; i < 100 && bobChat.seen.messages < expectMessages; i++) await sleep(10);
    return { lines: lines.map((line) => line.replace(/alice#[0-9a-f]{4}/, 'alice')), seen: bobChat.seen };
  } finally {
    await Promise.all([alice.close(), bob.close()]);
  }
}

describe('UDP chat through a real relay on loopback (unicast)', () => {
  let relay: UdpRelay;
  let port: number;

  before(async () => {
    relay = new UdpRelay({
      log: quiet,
      limits: { maxDatagramBytes: 1472, maxRooms: 8, maxMembersPerRoom: 8, maxRoomsPerSource: 8, memberTtlMs: 30_000, keepaliveMs: 5000, packetsPerSecond: 1e5, bytesPerSecond: 1e8 },
      delivery: { broadcast: null, multicast: null },
      multicastInterface: null,
      multicastTtl: 1,
      statsIntervalMs: 0,
      receiveBufferBytes: 1 << 20,
    });
    ({ port } = await relay.bind('127.0.0.1', 0));
  });

  after(() => relay.close());

  it('shows the receiver a gap where messages were dropped, and every message that arrived', async () => {
    const { lines, seen } = await converse(port, 42, 10, (alice) => dropping(alice, (seq) => seq === 2n || seq === 3n || seq === 7n), 7);
    assert.deepEqual(lines, [
      '[0] alice: line 0',
      '[1] alice: line 1',
      '  ! 2 messages from alice lost (2-3)',
      '[4] alice: line 4',
      '[5] alice: line 5',
      '[6] alice: line 6',
      '  ! 1 message from alice lost (7)',
      '[8] alice: line 8',
      '[9] alice: line 9',
    ]);
    assert.deepEqual(seen, { messages: 7, lost: 3, duplicates: 0, reordered: 0 });
  });

  it('shows duplicates and arrivals out of order, and takes a reordered one off the lost count', async () => {
    // A network that duplicates message 1 and holds message 2 back until after 3.
    const messy = (alice: UdpMember): ChatSender => {
      let held: Buffer | null = null;
      return {
        sender: alice.sender,
        send: (type, seq, payload) => {
          if (seq === 2n) return void (held = payload);
          alice.send(type, seq, payload);
          if (seq === 1n) alice.send(type, seq, payload);
          if (seq === 3n && held) alice.send(type, 2n, held);
        },
      };
    };
    const { lines, seen } = await converse(port, 43, 5, messy, 5);
    assert.deepEqual(lines, [
      '[0] alice: line 0',
      '[1] alice: line 1',
      '  ! duplicate of message 1 from alice (not shown again)',
      '  ! 1 message from alice lost (2)',
      '[3] alice: line 3',
      '  ! out of order: message 2 from alice arrived after 3',
      '[2] alice: line 2',
      '[4] alice: line 4',
    ]);
    assert.deepEqual(seen, { messages: 5, lost: 0, duplicates: 1, reordered: 1 });
  });

  it('prints a hostile name and text as one visible line that cannot pass for another member\'s', () => {
    const lines: string[] = [];
    const chat = new UdpChat({ sender: 1, send: () => {} }, 'bob', (line) => lines.push(line));
    const payload = encodeControl({ name: 'eve\r[7] alice', text: 'hi\x1b[2J\x07\x00\n[8] alice#0001: forged' });
    chat.onDatagram({ type: 'chat', flags: 0, room: 1, sender: 0xabcd0002, seq: 0n, sendTimeUs: 0n, payload });
    assert.deepEqual(lines, ['[0] eve\\x0d[7] alice#abcd: hi\\x1b[2J\\x07\\x00\\x0a[8] alice#0001: forged']);
  });

  it('cuts a line to what one datagram carries', () => {
    const sent: Buffer[] = [];
    const chat = new UdpChat({ sender: 1, send: (_t, _s, payload) => void sent.push(payload) }, 'ann', () => {});
    const kept = chat.say('"'.repeat(1000));
    assert.ok(sent[0]!.length <= 1400 && kept.length < 1000);
  });
});
