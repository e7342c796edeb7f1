import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { decodeControl, decodeDatagram, encodeControl, encodeDatagram, memberTokenPayloadSchema } from '@lab/protocol';
import { Logger } from '@lab/runtime';
import { UdpMember } from './udp-member.ts';

const quiet = new Logger({ service: 'test', level: 'error', stream: new Writable({ write: (_c, _e, done) => done() }) });

describe('a UDP room member', () => {
  it('sends its leave three times, each with its token: one lost leave must not leave it in the room', async (t) => {
    // A stand-in relay that admits every join at once and records what it is sent.
    const relay = createSocket('udp4');
    t.after(() => relay.close());
    relay.bind(0, '127.0.0.1');
    await once(relay, 'listening');
    const token = 'ab'.repeat(16);
    const seen: { type: string; token?: string }[] = [];
    relay.on('message', (bytes, from) => {
      const decoded = decodeDatagram(bytes);
      if (!decoded.ok) return;
      const { datagram } = decoded;
      seen.push({ type: datagram.type, token: decodeControl(memberTokenPayloadSchema, datagram.payload)?.token });
      if (datagram.type === 'join') {
        const payload = encodeControl({ mode: 'unicast', keepaliveMs: 60_000, token });
        relay.send(encodeDatagram({ type: 'joined', flags: 0, room: datagram.room, sender: datagram.sender, seq: 0n, sendTimeUs: 0n, payload }), from.port, from.address);
      }
    });

    const member = await UdpMember.open({ relay: { address: '127.0.0.1', port: relay.address().port }, room: 7, mode: 'unicast', log: quiet });
    await member.join();
    await member.close();
    await member.close(); // idempotent: no more leaves
    for (let i = 0; i < 50 && seen.filter((s) => s.type === 'leave').length < 3; i++) await new Promise((resolve) => setTimeout(resolve, 10));
    assert.deepEqual(
      seen.filter((s) => s.type === 'leave'),
      [1, 2, 3].map(() => ({ type: 'leave', token })),
    );
  });
});
