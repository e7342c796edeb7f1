import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import { parseUdpSocketDrops, readUdpSocketDrops } from './udp-socket-drops.ts';

const sample = `   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops
  101: 0100007F:2329 00000000:0000 07 00000000:00000000 00:00000000 00000000 10001        0 41234 2 0000000000000000 17
  102: 00000000:232A 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 41235 2 0000000000000000 0
  103: 0200007F:2329 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 41236 2 0000000000000000 3
`;

describe('UDP socket drops', () => {
  it('sums the drops of the sockets bound to a port, by its hex number', () => {
    assert.equal(parseUdpSocketDrops(sample, 9001), 20);
    assert.equal(parseUdpSocketDrops(sample, 9002), 0);
    assert.equal(parseUdpSocketDrops(sample, 9003), null);
  });

  it('counts what a full receive buffer dropped at a real socket', async () => {
    const receiver = createSocket('udp4');
    receiver.bind(0, '127.0.0.1');
    await once(receiver, 'listening');
    receiver.setRecvBufferSize(4096);
    const port = receiver.address().port;
    assert.equal(await readUdpSocketDrops(port), 0);
    const sender = createSocket('udp4');
    // Nothing reads while these arrive: the event loop is busy sending them.
    for (let i = 0; i < 200; i++) sender.send(Buffer.alloc(512), port, '127.0.0.1');
    await new Promise((resolve) => setTimeout(resolve, 100));
    const drops = await readUdpSocketDrops(port);
    receiver.close();
    sender.close();
    assert.ok(drops !== null && drops > 100, `drops ${drops}`);
  });
});
