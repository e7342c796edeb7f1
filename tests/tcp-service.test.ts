// The TCP file service as a user runs it: the server and the client CLI as processes, on loopback
// (IPv4, IPv6) and a Unix socket. Resumption after a crash, many clients at once, chat order, graceful
// stop and bounded memory on a 1 GiB file.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdtemp, open, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { after, before, describe, it } from 'node:test';
import { endpointSchema } from '@lab/protocol';
import { Logger } from '@lab/runtime';
import { Writable } from 'node:stream';
import { TcpFileClient } from '@lab/client';
import { killClientWhen, runClient, startTcpServer, type ServiceProcess } from './support/processes.ts';

const quiet = new Logger({ service: 'test', level: 'error', stream: new Writable({ write: (_c, _e, done) => done() }) });

async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(path), hash);
  return hash.digest('hex');
}

async function sizeOf(path: string): Promise<number> {
  return (await stat(path).catch(() => null))?.size ?? 0;
}

async function exists(path: string): Promise<boolean> {
  return (await stat(path).catch(() => null)) !== null;
}

/** The single JSON object a client command printed on stdout with --json. */
function jsonResult(result: { status: number | null; stdout: string; stderr: string }): Record<string, unknown> {
  assert.equal(result.status, 0, result.stderr);
  return JSON.parse(result.stdout) as Record<string, unknown>;
}

describe('TCP file service on loopback (processes)', { timeout: 300_000 }, () => {
  let dir: string;
  let server: ServiceProcess;
  let v4: string;
  let v6: string;
  let unix: string;
  let source: string;
  let sourceSha: string;
  const SIZE = 24 * 1024 * 1024 + 17;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'lab-tcp-service-'));
    source = join(dir, 'source.bin');
    await writeFile(source, randomBytes(SIZE));
    sourceSha = await sha256File(source);
    server = await startTcpServer(['--listen', `127.0.0.1:0,[::1]:0,unix:${join(dir, 'tcp.sock')}`, '--data-dir', join(dir, 'data')], 3);
    [v4, v6, unix] = server.endpoints as [string, string, string];
  });

  after(async () => {
    await server?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('listens on IPv4, IPv6 and a Unix socket, and each moves a file there and back intact', async () => {
    assert.match(v4, /^127\.0\.0\.1:\d+$/);
    assert.match(v6, /^\[::1\]:\d+$/);
    assert.equal(unix, `unix:${join(dir, 'tcp.sock')}`);
    for (const [kind, endpoint] of [['v4', v4], ['v6', v6], ['unix', unix]] as const) {
      const name = `via-${kind}.bin`;
      const sent = jsonResult(await runClient(['send', source, '--as', name, '--server', endpoint, '--json', '--progress', 'none']));
      assert.equal(sent.sha256, sourceSha, kind);
      const copy = join(dir, `copy-${kind}.bin`);
      const got = jsonResult(await runClient(['get', name, '--out', copy, '--server', endpoint, '--json', '--progress', 'none']));
      assert.equal(got.sha256, sourceSha, kind);
      assert.equal(await sha256File(copy), sourceSha, `${kind}: the copy on disk`);
    }
    // The lifecycle log tells who closed each connection, and how: the CLI closes with FIN after its reply.
    const closes = server.logs.filter((l) => l.event === 'close');
    assert.ok(closes.length >= 6 && closes.every((l) => l.by === 'client' && l.clean === true), JSON.stringify(closes.slice(0, 3)));
  });

  it('resumes an upload killed mid-way, sending only the missing bytes', async () => {
    const partial = join(dir, 'data', `.resumed-up.bin.${sourceSha}.part`);
    await killClientWhen(
      ['send', source, '--as', 'resumed-up.bin', '--server', v4, '--limit-rate', String(8 * 1024 * 1024), '--progress', 'none'],
      async () => (await sizeOf(partial)) >= 4 * 1024 * 1024,
    );
    // Once the server has noticed the lost connection and synced the partial, its size is final.
    await waitFor(() => server.logs.some((l) => l.event === 'transfer-suspended' && l.name === 'resumed-up.bin'));
    const statResult = jsonResult(await runClient(['stat', 'resumed-up.bin', '--server', v4, '--json']));
    const kept = (statResult.partials as { received: number }[])[0]?.received ?? 0;
    assert.ok(kept >= 4 * 1024 * 1024 && kept < SIZE, `kept ${kept} bytes`);
    const resumed = jsonResult(await runClient(['send', source, '--as', 'resumed-up.bin', '--server', v4, '--json', '--progress', 'none']));
    assert.deepEqual(resumed.offsets, [kept]);
    assert.equal(resumed.sentBytes, SIZE - kept, 'only the missing bytes were sent');
    assert.equal(resumed.sha256, sourceSha);
    assert.equal(await sha256File(join(dir, 'data', 'resumed-up.bin')), sourceSha);
    assert.equal(await exists(partial), false, 'the partial became the file');
  });

  it('resumes a download killed mid-way, receiving only the missing bytes', async () => {
    const out = join(dir, 'resumed-down.bin');
    const part = `${out}.${sourceSha.slice(0, 16)}.part`;
    await killClientWhen(
      ['get', 'via-v4.bin', '--out', out, '--server', v4, '--limit-rate', String(8 * 1024 * 1024), '--progress', 'none'],
      async () => (await sizeOf(part)) >= 4 * 1024 * 1024,
    );
    const kept = await sizeOf(part);
    assert.ok(kept >= 4 * 1024 * 1024 && kept < SIZE, `kept ${kept} bytes`);
    assert.equal(await exists(out), false, 'nothing incomplete under the final name');
    const resumed = jsonResult(await runClient(['get', 'via-v4.bin', '--out', out, '--server', v4, '--json', '--progress', 'none']));
    assert.deepEqual(resumed.offsets, [kept]);
    assert.equal(resumed.receivedBytes, SIZE - kept, 'only the missing bytes were received');
    assert.equal(await sha256File(out), sourceSha);
    assert.equal(await exists(part), false);
  });

  it('starts a download over when the bytes it kept are not the server\'s', async () => {
    const out = join(dir, 'tampered.bin');
    const part = `${out}.${sourceSha.slice(0, 16)}.part`;
    await writeFile(part, randomBytes(1024 * 1024)); // a kept part whose bytes are wrong
    const got = jsonResult(await runClient(['get', 'via-v4.bin', '--out', out, '--server', v4, '--json', '--progress', 'none']));
    assert.deepEqual(got.offsets, [1024 * 1024, 0]);
    assert.equal(await sha256File(out), sourceSha);
  });

  it('gives scripts a distinct exit status for a missing file, a refusal, an unreachable server and a local disk problem', async () => {
    const missing = await runClient(['get', 'no-such-file', '--server', v4, '--progress', 'none']);
    assert.equal(missing.status, 3);
    assert.match(missing.stderr, /client: LAB_ERR_NOT_FOUND/);
    const badName = await runClient(['send', source, '--as', '../escape', '--server', v4, '--progress', 'none']);
    assert.equal(badName.status, 5);
    assert.match(badName.stderr, /client: LAB_ERR_BAD_FILE_NAME/);
    const unreachable = await runClient(['list', '--server', 'unix:/nonexistent/lab.sock', '--connect-timeout-ms', '300']);
    assert.equal(unreachable.status, 6);
    assert.match(unreachable.stderr, /client: LAB_ERR_CONNECT/);
    const localDisk = await runClient(['get', 'via-v4.bin', '--out', join(dir, 'no-such-folder', 'x.bin'), '--server', v4, '--progress', 'none']);
    assert.equal(localDisk.status, 1, 'a local file problem is not the server being unreachable');
    assert.match(localDisk.stderr, /client: LAB_ERR_LOCAL_FILE/);
  });

  it('serves 50 concurrent clients uploading and downloading different files', async () => {
    const endpoint = endpointSchema.parse(v4);
    const results = await Promise.all(
      Array.from({ length: 50 }, async (_, i) => {
        const data = randomBytes(256 * 1024 + i);
        const sha256 = createHash('sha256').update(data).digest('hex');
        const path = join(dir, `concurrent-${i}.bin`);
        await writeFile(path, data);
        const client = await TcpFileClient.connect({ endpoint, log: quiet });
        try {
          const stored = await client.upload(path, { name: `concurrent-${i}.bin`, size: data.length, sha256, offset: 0 });
          const copy = await client.download(`concurrent-${i}.bin`, `${path}.copy`, 0);
          return stored.sha256 === sha256 && copy.sha256 === sha256 && copy.declaredSha256 === sha256 && (await sha256File(`${path}.copy`)) === sha256;
        } finally {
          await client.close();
        }
      }),
    );
    assert.deepEqual(results.filter((ok) => !ok).length, 0);
    const names = (await readdir(join(dir, 'data'))).filter((n) => n.startsWith('concurrent-'));
    assert.equal(names.length, 50);
  });

  it('relays a chat message from one client to every other client in the room, in order', async () => {
    const endpoint = endpointSchema.parse(v6);
    const join_ = async (room: string) => {
      const client = await TcpFileClient.connect({ endpoint, log: quiet });
      client.send({ type: 'chat-join', room });
      await client.expect('chat-joined');
      return client;
    };
    const [speaker, a, b, other] = await Promise.all([join_('lab'), join_('lab'), join_('lab'), join_('elsewhere')]);
    const texts = Array.from({ length: 200 }, (_, i) => `message ${i} ${'x'.repeat(i % 50)}`);
    for (const text of texts) speaker.send({ type: 'chat', text });
    for (const listener of [a, b]) {
      const seen = [];
      for (let i = 0; i < texts.length; i++) {
        const message = await listener.nextMessage();
        assert.ok(message?.type === 'chat');
        seen.push({ seq: message.seq, text: message.text });
      }
      assert.deepEqual(seen, texts.map((text, seq) => ({ seq, text })));
    }
    // The other room heard nothing: its next message is the reply to its own request.
    other.send({ type: 'list' });
    assert.equal((await other.nextMessage())?.type, 'listing');
    await Promise.all([speaker, a, b, other].map((c) => c.close()));
  });
});

describe('TCP file server stopping on SIGTERM', { timeout: 120_000 }, () => {
  let dir: string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'lab-tcp-stop-'));
    await writeFile(join(dir, 'source.bin'), randomBytes(12 * 1024 * 1024));
  });

  after(() => rm(dir, { recursive: true, force: true }));

  it('lets a transfer in progress finish within the grace period, then exits 0', async () => {
    const server = await startTcpServer(['--listen', '127.0.0.1:0', '--data-dir', join(dir, 'a'), '--grace-ms', '20000']);
    const [endpoint] = server.endpoints;
    const sending = runClient(['send', join(dir, 'source.bin'), '--server', endpoint!, '--limit-rate', String(6 * 1024 * 1024), '--retries', '0', '--progress', 'none']);
    await waitFor(() => server.logs.some((l) => l.event === 'transfer-start'));
    assert.equal(await server.stop('SIGTERM'), 0);
    const sent = await sending;
    assert.equal(sent.status, 0, sent.stderr);
    assert.equal(await sha256File(join(dir, 'a', 'source.bin')), await sha256File(join(dir, 'source.bin')));
  });

  it('after the grace period, stops the transfer and keeps it resumable', async () => {
    const data = join(dir, 'b');
    const server = await startTcpServer(['--listen', '127.0.0.1:0', '--data-dir', data, '--grace-ms', '300']);
    const sending = runClient(['send', join(dir, 'source.bin'), '--server', server.endpoints[0]!, '--limit-rate', String(4 * 1024 * 1024), '--retries', '0', '--progress', 'none']);
    await waitFor(() => server.logs.some((l) => l.event === 'transfer-start'));
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(await server.stop('SIGTERM'), 0);
    const sent = await sending;
    assert.equal(sent.status, 6, 'the client reports the lost connection');
    assert.ok(server.logs.some((l) => l.event === 'grace-expired'));
    const partials = (await readdir(data)).filter((n) => n.endsWith('.part'));
    assert.equal(partials.length, 1);
    const kept = await sizeOf(join(data, partials[0]!));
    assert.ok(kept > 0 && kept < 12 * 1024 * 1024, `kept ${kept}`);

    const restarted = await startTcpServer(['--listen', '127.0.0.1:0', '--data-dir', data]);
    try {
      const resumed = jsonResult(await runClient(['send', join(dir, 'source.bin'), '--server', restarted.endpoints[0]!, '--json', '--progress', 'none']));
      assert.deepEqual(resumed.offsets, [kept]);
    } finally {
      await restarted.stop();
    }
  });
});

describe('TCP file service memory on a 1 GiB file', { timeout: 300_000 }, () => {
  it('keeps the server under 256 MiB of resident memory (a quarter of the file) moving 1 GiB up and down', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'lab-tcp-gib-'));
    const server = await startTcpServer(['--listen', '127.0.0.1:0', '--data-dir', join(dir, 'data')]);
    try {
      // 1 GiB made of one random MiB repeated: the same work for TCP, disk and SHA-256, and quick to make.
      const block = randomBytes(1024 * 1024);
      const source = join(dir, 'gib.bin');
      const handle = await open(source, 'w');
      for (let i = 0; i < 1024; i++) await handle.write(block);
      await handle.close();
      const sha = await sha256File(source);
      const endpoint = server.endpoints[0]!;
      const before = await server.peakRss();
      const sent = jsonResult(await runClient(['send', source, '--server', endpoint, '--json', '--progress', 'none']));
      assert.equal(sent.sha256, sha);
      await rm(source);
      const got = jsonResult(await runClient(['get', 'gib.bin', '--out', source, '--server', endpoint, '--json', '--progress', 'none']));
      assert.equal(got.sha256, sha);
      assert.equal(await sha256File(source), sha);
      const peak = await server.peakRss();
      process.stderr.write(`tcp-server peak RSS: ${(before / 2 ** 20).toFixed(1)} MiB at start, ${(peak / 2 ** 20).toFixed(1)} MiB after 1 GiB up and down\n`);
      assert.ok(peak < 256 * 2 ** 20, `peak RSS ${peak} bytes`);
    } finally {
      await server.stop();
      await rm(dir, { recursive: true, force: true });
    }
  });
});

async function waitFor(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 10));
  }
}

