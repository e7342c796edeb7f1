// dumpcap and tshark as the lab runs them, on this host's loopback: a capture that tshark reads back into
// a ladder, and a capture that cannot be written, which must cost the step its capture and nothing else.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { startDumpcap } from '../lab/capture/dumpcap.ts';
import { startStepCapture } from '../lab/capture/step-capture.ts';
import { readCapture } from '../lab/capture/tshark.ts';
import { tcpLadder } from '../lab/capture/tcp-ladder.ts';

const isRoot = process.getuid?.() === 0;

/** One TCP connection on loopback that carries `bytes` one way and closes; resolves with the client's port. */
async function oneConnection(bytes: number): Promise<number> {
  const server = createServer((socket) => {
    socket.resume();
    socket.on('end', () => socket.end());
  }).listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  const client = createConnection(port, '127.0.0.1');
  await once(client, 'connect');
  const clientPort = client.localPort!;
  client.end(Buffer.alloc(bytes, 1));
  client.resume();
  await once(client, 'close');
  server.close();
  return clientPort;
}

describe('packet capture with dumpcap, read with tshark', { skip: isRoot ? false : 'capturing needs root' }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'lab-capture-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('captures from the first packet on, and the ladder finds the connection by its port, from SYN to FIN', async () => {
    const file = join(dir, 'lo.pcapng');
    const capture = await startDumpcap([], 'lo', file);
    const clientPort = await oneConnection(100_000);
    const end = await capture.stop();
    assert.ok(end.bytes > 0 && end.packets! > 0, JSON.stringify(end));
    const ladder = tcpLadder(await readCapture(file), clientPort);
    assert.ok(ladder, 'the connection is in the capture');
    assert.equal(ladder.client.port, clientPort);
    assert.deepEqual(ladder.handshake.map((segment) => `${segment.from} ${segment.flags.join(' ')}`), ['client SYN', 'server SYN ACK', 'client ACK']);
    assert.equal(ladder.closedFirstBy, 'client');
    assert.ok(ladder.teardown.some((segment) => segment.from === 'server' && segment.flags.includes('FIN')));
  });

  it('says a capture it could not write is unavailable, and the step goes on', async () => {
    const step = await startStepCapture({ start: (file) => startDumpcap([], 'lo', file) }, join(dir, 'no-such-folder', 'x.pcapng'));
    await oneConnection(1000);
    const { capture } = await step.finish(null);
    assert.ok('unavailable' in capture && /LAB_ERR_STORAGE|cannot write the capture/.test(capture.unavailable), JSON.stringify(capture));
  });
});
