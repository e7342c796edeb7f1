// Clients that would hurt the others, against the TCP server as a user runs it (its own process): a
// client that pipelines requests and never reads, uploads that fill a small disk, thousands of
// abandoned partial uploads, and chat text written to drive the reader's terminal.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { encodeFrameHeader, endpointSchema } from '@lab/protocol';
import { Logger } from '@lab/runtime';
import { TcpFileClient } from '@lab/client';
import { CLIENT, runClient, startTcpServer, type ServiceProcess } from './support/processes.ts';
import { repoRoot } from './support/lab-containers.ts';

const quiet = new Logger({ service: 'test', level: 'error', stream: new Writable({ write: (_c, _e, done) => done() }) });
const sha = (data: Buffer) => createHash('sha256').update(data).digest('hex');
const MiB = 1024 * 1024;
/** How long a client floods the server with pipelined requests (LAB_HOG_SECONDS=120 for the long run). */
const HOG_SECONDS = Number(process.env.LAB_HOG_SECONDS ?? 10);

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

describe('TCP server against clients that would hurt the others (processes)', { timeout: 600_000 }, () => {
  let dir: string;
  const servers: ServiceProcess[] = [];

  before(async () => (dir = await mkdtemp(join(tmpdir(), 'lab-tcp-hostile-'))));
  after(async () => {
    for (const server of servers) await server.stop('SIGKILL');
    await rm(dir, { recursive: true, force: true });
  });

  async function start(name: string, args: string[] = [], prefix: string[] = []): Promise<{ server: ServiceProcess; endpoint: string }> {
    const dataDir = join(dir, name);
    await mkdir(dataDir, { recursive: true });
    const server = await startTcpServer(['--listen', '127.0.0.1:0', '--data-dir', dataDir, ...args], 1, prefix);
    servers.push(server);
    return { server, endpoint: server.endpoints[0]! };
  }

  it(`keeps its memory flat while a client pipelines list requests for ${HOG_SECONDS} s and never reads, and serves others meanwhile`, async () => {
    const dataDir = join(dir, 'listed');
    await mkdir(dataDir, { recursive: true });
    // 60 long names: each listing is about 13 KB, for a 19-byte request.
    for (let i = 0; i < 60; i++) await writeFile(join(dataDir, `${String(i).padStart(3, '0')}-${'n'.repeat(140)}`), 'x');
    const { server, endpoint } = await start('listed');
    await sleep(500);
    const baseline = await server.rss();
    const { host, port } = endpointSchema.parse(endpoint) as { host: string; port: number };
    const hog = connect({ host, port });
    await once(hog, 'connect');
    hog.on('error', () => {});
    hog.write(encodeFrameHeader({ type: 'hello', version: 1 }));
    const batch = Buffer.concat(Array.from({ length: 1000 }, () => encodeFrameHeader({ type: 'list' })));
    let requests = 0;
    let peak = baseline;
    let othersServed = 0;
    const deadline = performance.now() + HOG_SECONDS * 1000;
    for (let turn = 0; performance.now() < deadline; turn++) {
      // Keep the client's own buffer topped up: all the server could want to read.
      while (hog.writableLength < MiB) {
        hog.write(batch);
        requests += 1000;
      }
      await sleep(250);
      peak = Math.max(peak, await server.rss());
      if (turn % 8 === 0) {
        const other = await TcpFileClient.connect({ endpoint: endpointSchema.parse(endpoint), log: quiet });
        const started = performance.now();
        assert.equal((await other.list()).length, 60);
        assert.ok(performance.now() - started < 2000, 'another client is served at once');
        await other.close();
        othersServed++;
      }
    }
    hog.destroy();
    const grew = (peak - baseline) / MiB;
    console.log(`tcp-server RSS: ${(baseline / MiB).toFixed(1)} MiB at start, at most ${(peak / MiB).toFixed(1)} MiB while a client pipelined ${requests} list requests for ${HOG_SECONDS} s (${othersServed} other clients served)`);
    assert.ok(othersServed >= 1);
    assert.ok(grew < 32, `the server grew ${grew.toFixed(1)} MiB`);
  });

  it('heals after uploads fail for want of disk: the space comes back, a later small upload succeeds, stored files keep their SHA-256', async () => {
    // The server's data directory is a tmpfs of 8 MiB in a mount namespace of its own: nothing outside sees it.
    const mountAndRun = 'mount -t tmpfs -o size=8m lab-data "$0" && exec "$@"';
    const prefix = ['unshare', '--mount', ...(process.getuid?.() === 0 ? [] : ['--map-root-user']), 'sh', '-c', mountAndRun, join(dir, 'small')];
    await mkdir(join(dir, 'small'), { recursive: true });
    const { endpoint } = await start('small', ['--disk-reserve-bytes', String(MiB), '--max-file-bytes', String(64 * MiB)], prefix);
    const files = join(dir, 'files');
    await mkdir(files, { recursive: true });
    const write = async (name: string, size: number) => {
      const data = randomBytes(size);
      await writeFile(join(files, name), data);
      return { path: join(files, name), sha256: sha(data) };
    };
    const send = (path: string, as: string) => runClient(['send', path, '--as', as, '--server', endpoint, '--json', '--progress', 'none', '--retries', '0']);
    const kept = await write('kept.bin', MiB);
    assert.equal((await send(kept.path, 'kept.bin')).status, 0);

    // Too large for the disk: refused before its body.
    const huge = await write('huge.bin', 12 * MiB);
    const refused = await send(huge.path, 'huge.bin');
    assert.equal(refused.status, 5, refused.stderr);
    assert.match(refused.stderr, /LAB_ERR_DISK_FULL/);

    // Two that each fit, but not together: the disk fills mid-body, and what failed is dropped.
    const [a, b] = await Promise.all([write('a.bin', 4 * MiB), write('b.bin', 4 * MiB)]);
    const results = await Promise.all([send(a.path, 'a.bin'), send(b.path, 'b.bin')]);
    const failed = results.filter((r) => r.status !== 0);
    assert.ok(failed.length >= 1, 'the disk cannot hold both');
    for (const r of failed) assert.match(r.stderr, /LAB_ERR_DISK_FULL/, r.stderr);
    for (const name of ['a.bin', 'b.bin']) {
      const statRun = await runClient(['stat', name, '--server', endpoint, '--json']);
      // Exit 3: neither a stored file nor a partial of that name; 0: its partials are listed.
      const partials = statRun.status === 3 ? [] : (JSON.parse(statRun.stdout) as { partials: unknown[] }).partials;
      assert.deepEqual(partials, [], `no partial of ${name} is left to hold the disk`);
    }

    // Nobody deleted anything by hand: a small upload succeeds, and what was stored is intact.
    const small = await write('small.bin', 4096);
    const stored = await send(small.path, 'small.bin');
    assert.equal(stored.status, 0, stored.stderr);
    const out = join(files, 'kept.copy');
    const got = JSON.parse((await runClient(['get', 'kept.bin', '--out', out, '--server', endpoint, '--json', '--progress', 'none'])).stdout) as { sha256: string };
    assert.equal(got.sha256, kept.sha256);
  });

  it('stores a 1 MiB file on a 64 MiB volume with its default options, and still keeps a reserve there', async () => {
    // A fixed 64 MiB reserve refused every upload on such a volume; the default is now 5% of it.
    const mountAndRun = 'mount -t tmpfs -o size=64m lab-data "$0" && exec "$@"';
    const prefix = ['unshare', '--mount', ...(process.getuid?.() === 0 ? [] : ['--map-root-user']), 'sh', '-c', mountAndRun, join(dir, 'volume')];
    await mkdir(join(dir, 'volume'), { recursive: true });
    const { server, endpoint } = await start('volume', [], prefix);
    const listening = server.logs.find((entry) => entry.event === 'listening');
    assert.equal(listening?.diskReserveBytes, Math.floor(0.05 * 64 * MiB));
    const files = join(dir, 'volume-files');
    await mkdir(files, { recursive: true });
    const data = randomBytes(MiB);
    await writeFile(join(files, 'one.bin'), data);
    const sent = await runClient(['send', join(files, 'one.bin'), '--as', 'one.bin', '--server', endpoint, '--json', '--progress', 'none', '--retries', '0']);
    assert.equal(sent.status, 0, sent.stderr);
    // The reserve is still kept: a file that would eat into it is refused before its body.
    await writeFile(join(files, 'big.bin'), randomBytes(62 * MiB));
    const refused = await runClient(['send', join(files, 'big.bin'), '--as', 'big.bin', '--server', endpoint, '--json', '--progress', 'none', '--retries', '0']);
    assert.equal(refused.status, 5, refused.stderr);
    assert.match(refused.stderr, /LAB_ERR_DISK_FULL/);
  });

  it('starts a 1 KiB upload as fast with 8,000 partial uploads kept as with none', async () => {
    const crowdedDir = join(dir, 'crowded');
    await mkdir(crowdedDir, { recursive: true });
    for (let i = 0; i < 8000; i++) await writeFile(join(crowdedDir, `.abandoned-${i}.${sha(Buffer.from(String(i)))}.part`), 'x');
    const caps = ['--max-partials', '10000'];
    const empty = await start('empty', caps);
    const crowded = await start('crowded', caps);
    const source = join(dir, 'one-kib.bin');
    const data = randomBytes(1024);
    await writeFile(source, data);
    const clients = await Promise.all([empty, crowded].map((s) => TcpFileClient.connect({ endpoint: endpointSchema.parse(s.endpoint), log: quiet })));
    const times: [number[], number[]] = [[], []];
    // Interleaved, so that whatever else the machine does weighs on both alike.
    for (let round = 0; round < 41; round++) {
      for (const [k, client] of clients.entries()) {
        const started = performance.now();
        await client.upload(source, { name: `put-${round}.bin`, size: data.length, sha256: sha(data), offset: 0 });
        times[k]!.push(performance.now() - started);
      }
    }
    for (const client of clients) await client.close();
    const [none, many] = times.map(median) as [number, number];
    console.log(`1 KiB upload, median of 41: ${none.toFixed(2)} ms with no partials, ${many.toFixed(2)} ms with 8,000`);
    assert.ok(many <= 2 * none, `${many.toFixed(2)} ms with 8,000 partials against ${none.toFixed(2)} ms with none`);
  });

  it('prints a chat message with ESC, CR, BEL and NUL as one visible, harmless line', async () => {
    const { endpoint } = await start('chat');
    const reader = spawn(process.execPath, [CLIENT, 'chat', '--server', endpoint, '--room', 'lab'], { cwd: repoRoot, env: { ...process.env, LOG_FORMAT: 'json' } });
    let stdout = '';
    let stderr = '';
    reader.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('latin1')));
    reader.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    for (let i = 0; i < 500 && !stderr.includes('joined room'); i++) await sleep(10);
    const speaker = await TcpFileClient.connect({ endpoint: endpointSchema.parse(endpoint), log: quiet });
    speaker.send({ type: 'chat-join', room: 'lab' });
    await speaker.expect('chat-joined');
    speaker.send({ type: 'chat', text: 'hi\x1b[2J\x1b]0;owned\x07\r[lab #9] 10.9.9.9:1: forged\n\x00end' });
    for (let i = 0; i < 500 && !stdout.includes('end\n'); i++) await sleep(10);
    await speaker.close();
    reader.stdin.end();
    await once(reader, 'exit');
    const lines = stdout.split('\n').filter((l) => l !== '');
    assert.equal(lines.length, 1, JSON.stringify(stdout));
    assert.match(lines[0]!, /^\[lab #0\] 127\.0\.0\.1:\d+: hi\\x1b\[2J\\x1b\]0;owned\\x07\\x0d\[lab #9\] 10\.9\.9\.9:1: forged\\x0a\\x00end$/);
    assert.doesNotMatch(stdout, /[\x00-\x09\x0b-\x1f\x7f-\x9f]/, 'no control character reaches the terminal');
  });
});
