import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { connect, type Socket } from 'node:net';
import { Writable } from 'node:stream';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import { bodyLengthOf, encodeFrameHeader, FrameDecoder, serverMessageSchema, type ServerMessage } from '@lab/protocol';
import { Logger } from '@lab/runtime';
import { readFrames, type ReadEvent } from '@lab/stream-io';
import { FileStore, type StoreLimits } from './file-store.ts';
import { TcpFileServer } from './server.ts';

const sha = (data: Buffer) => createHash('sha256').update(data).digest('hex');
const quiet = new Logger({ service: 'test', level: 'error', stream: new Writable({ write: (_c, _e, cb) => cb() }) });

/** A raw protocol session: frames written by hand, replies decoded with the real decoder. */
class Session {
  readonly socket: Socket;
  readonly #events: AsyncGenerator<ReadEvent<ServerMessage>>;

  constructor(socket: Socket) {
    this.socket = socket;
    this.#events = readFrames(socket, new FrameDecoder({ schema: serverMessageSchema, bodyLength: bodyLengthOf }));
  }

  static async open(port: number, hello = true): Promise<Session> {
    const socket = connect({ host: '127.0.0.1', port });
    await once(socket, 'connect');
    const session = new Session(socket);
    if (hello) {
      session.send({ type: 'hello', version: 1 });
      assert.equal((await session.message()).type, 'welcome');
    }
    return session;
  }

  send(message: object, body?: Buffer): void {
    this.socket.write(encodeFrameHeader(message));
    if (body) this.socket.write(body);
  }

  async message(): Promise<ServerMessage> {
    const next = await this.#events.next();
    assert.ok(!next.done, 'connection closed before a reply');
    assert.equal(next.value.kind, 'message');
    return (next.value as { message: ServerMessage }).message;
  }

  async body(): Promise<Buffer> {
    const parts: Buffer[] = [];
    for (;;) {
      const next = await this.#events.next();
      assert.ok(!next.done);
      if (next.value.kind === 'body-end') return Buffer.concat(parts);
      assert.equal(next.value.kind, 'body');
      parts.push(Buffer.from((next.value as { data: Buffer }).data));
    }
  }

  /** Asks `stat` until the server holds `bytes` of an upload of `name` (on a loaded machine that can take a while). */
  async untilPartial(name: string, bytes: number): Promise<void> {
    for (let i = 0; i < 500; i++) {
      this.send({ type: 'stat', name });
      const st = await this.message();
      if (st.type === 'stat-result' && st.partials[0]?.received === bytes) return;
      await new Promise((r) => setTimeout(r, 10));
    }
    assert.fail(`the server never held ${bytes} bytes of ${name}`);
  }

  /**
   * Resolves when the server closed the connection, and checks it did so promptly (well before the
   * 5 s idle timeout of the test server), so the close is the refusal's and not the timeout's.
   */
  async closedByServer(): Promise<void> {
    const started = performance.now();
    for (;;) if ((await this.#events.next().catch(() => ({ done: true }))).done) break;
    assert.ok(performance.now() - started < 1000, 'closed by the refusal, not by the idle timeout');
  }
}

interface TestServerOptions {
  quotaBytes?: number;
  headerTimeoutMs?: number;
  idleTimeoutMs?: number;
  maxConnections?: number;
  maxFileBytes?: number;
  backlog?: number;
  log?: Logger;
  maxConnectionsPerAddress?: number;
  store?: Partial<StoreLimits>;
}

/** A server on 127.0.0.1, port 0, storing into `dataDir`; small limits unless told otherwise. */
async function startTestServer(dataDir: string, options: TestServerOptions = {}): Promise<{ server: TcpFileServer; port: number }> {
  const store = new FileStore(dataDir, { quotaBytes: options.quotaBytes, ...options.store });
  await store.init();
  const server = new TcpFileServer({
    store,
    log: options.log ?? quiet,
    limits: { maxHeaderBytes: 1024, maxFileBytes: options.maxFileBytes ?? 1 << 20, headerTimeoutMs: options.headerTimeoutMs ?? 300 },
    idleTimeoutMs: options.idleTimeoutMs ?? 5000,
    maxConnections: options.maxConnections ?? 100,
    maxConnectionsPerAddress: options.maxConnectionsPerAddress,
  });
  const bound = await server.listen({ kind: 'tcp', host: '127.0.0.1', port: 0 }, options.backlog ?? 16);
  assert.equal(bound.endpoint.kind, 'tcp');
  return { server, port: bound.endpoint.kind === 'tcp' ? bound.endpoint.port : 0 };
}

describe('TcpFileServer on loopback', () => {
  let dir: string;
  let server: TcpFileServer;
  let port: number;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'lab-tcp-server-'));
    ({ server, port } = await startTestServer(join(dir, 'data')));
  });

  after(async () => {
    await server.close();
    await server.close(); // idempotent
    await rm(dir, { recursive: true, force: true });
  });

  const stored = () => readdir(join(dir, 'data'));

  it('stores an upload atomically and sends the same bytes back', async () => {
    const data = randomBytes(300_000);
    const s = await Session.open(port);
    s.send({ type: 'put', name: 'one.bin', size: data.length, sha256: sha(data) }, data);
    assert.deepEqual(await s.message(), { type: 'stored', name: 'one.bin', size: data.length, sha256: sha(data) });
    assert.ok((await readFile(join(dir, 'data', 'one.bin'))).equals(data));
    s.send({ type: 'get', name: 'one.bin' });
    assert.deepEqual(await s.message(), { type: 'file', name: 'one.bin', size: data.length, sha256: sha(data), offset: 0 });
    assert.ok((await s.body()).equals(data));
    s.socket.end();
  });

  async function expectError(session: Session, code: string): Promise<void> {
    const reply = await session.message();
    assert.equal(reply.type, 'error');
    assert.equal((reply as { code: string }).code, code);
  }

  it('refuses a hash mismatch, keeps the stored file of that name, and keeps the connection', async () => {
    const original = Buffer.from('original content');
    await writeFile(join(dir, 'data', 'keep.bin'), original);
    const before = (await stored()).sort();
    const data = Buffer.from('tampered content');
    const s = await Session.open(port);
    s.send({ type: 'put', name: 'keep.bin', size: data.length, sha256: sha(original) }, data);
    await expectError(s, 'LAB_ERR_HASH_MISMATCH');
    assert.ok((await readFile(join(dir, 'data', 'keep.bin'))).equals(original));
    assert.deepEqual((await stored()).sort(), before, 'no temporary file left');
    s.send({ type: 'get', name: 'keep.bin' });
    assert.equal((await s.message()).type, 'file');
    assert.ok((await s.body()).equals(original));
    s.socket.end();
  });

  it('refuses path tricks with LAB_ERR_BAD_FILE_NAME before reading the body, and closes', async () => {
    for (const name of ['../x', 'a/b', '.hidden', '..']) {
      const s = await Session.open(port);
      s.send({ type: 'put', name, size: 1, sha256: sha(Buffer.from('x')) }, Buffer.from('x'));
      await expectError(s, 'LAB_ERR_BAD_FILE_NAME');
      await s.closedByServer();
    }
    assert.deepEqual((await readdir(dir)).sort(), ['data']);
    assert.deepEqual((await stored()).filter((n) => n.includes('escape') || n.startsWith('.')), [], 'no partial left in data/');
  });

  it('delivers its refusal even while the client goes on sending the body', async () => {
    const s = await Session.open(port);
    const body = randomBytes(900_000);
    s.send({ type: 'put', name: '../escape', size: body.length, sha256: sha(body) }, body);
    await expectError(s, 'LAB_ERR_BAD_FILE_NAME');
    await s.closedByServer();
  });

  it('survives clients that reset the connection right after a refusal or mid-download', async () => {
    for (let i = 0; i < 20; i++) {
      const s = await Session.open(port);
      s.send({ type: 'put', name: 'a/b', size: 5, sha256: sha(Buffer.from('hello')) }, Buffer.from('hello'));
      if (i % 2 === 0) await s.message();
      s.socket.resetAndDestroy();
      const d = await Session.open(port);
      d.send({ type: 'get', name: 'one.bin' });
      await d.message();
      d.socket.resetAndDestroy();
    }
    // Still serving, and no uncaught 'error' event took the process down.
    const s = await Session.open(port);
    s.send({ type: 'get', name: 'one.bin' });
    assert.equal((await s.message()).type, 'file');
    assert.equal((await s.body()).length, 300_000);
    s.socket.end();
  });

  it('answers every request a client sent before its FIN (half-close)', async () => {
    const s = await Session.open(port);
    s.send({ type: 'get', name: 'missing.bin' });
    s.send({ type: 'get', name: 'one.bin' });
    s.socket.end();
    await expectError(s, 'LAB_ERR_NOT_FOUND');
    assert.equal((await s.message()).type, 'file');
    assert.equal((await s.body()).length, 300_000);
  });

  it('refuses a file above the size limit with LAB_ERR_FILE_TOO_LARGE', async () => {
    const s = await Session.open(port);
    s.send({ type: 'put', name: 'big.bin', size: (1 << 20) + 1, sha256: sha(Buffer.alloc(0)) });
    await expectError(s, 'LAB_ERR_FILE_TOO_LARGE');
    await s.closedByServer();
    assert.ok(!(await stored()).includes('big.bin'));
  });

  it('refuses an oversized header from its length prefix', async () => {
    const s = await Session.open(port);
    const prefix = Buffer.alloc(4);
    prefix.writeUInt32BE(1025);
    s.socket.write(prefix);
    await expectError(s, 'LAB_ERR_HEADER_TOO_LARGE');
    await s.closedByServer();
  });

  it('requires hello first and refuses an unknown protocol version', async () => {
    const early = await Session.open(port, false);
    early.send({ type: 'get', name: 'one.bin' });
    await expectError(early, 'LAB_ERR_UNEXPECTED_MESSAGE');
    const future = await Session.open(port, false);
    future.send({ type: 'hello', version: 99 });
    await expectError(future, 'LAB_ERR_UNSUPPORTED_VERSION');
  });

  it('answers LAB_ERR_NOT_FOUND for a missing file and keeps the connection', async () => {
    const s = await Session.open(port);
    s.send({ type: 'get', name: 'missing.bin' });
    await expectError(s, 'LAB_ERR_NOT_FOUND');
    s.send({ type: 'get', name: 'one.bin' });
    assert.equal((await s.message()).type, 'file');
    s.socket.end();
  });

  it('holds chat for a member until the file body it is receiving is complete', async () => {
    // Far more than the socket buffers hold: once its header is read, the server is mid-body until we read.
    const big = randomBytes(32 * 1024 * 1024);
    await writeFile(join(dir, 'data', 'big.bin'), big);
    const downloader = await Session.open(port);
    const speaker = await Session.open(port);
    for (const s of [downloader, speaker]) {
      s.send({ type: 'chat-join', room: 'r' });
      assert.equal((await s.message()).type, 'chat-joined');
    }
    downloader.send({ type: 'get', name: 'big.bin' });
    assert.equal((await downloader.message()).type, 'file');
    speaker.send({ type: 'chat', text: 'in the middle' });
    await new Promise((r) => setTimeout(r, 50));
    assert.ok((await downloader.body()).equals(big), 'the body is intact');
    const chat = await downloader.message();
    assert.equal(chat.type === 'chat' && chat.text, 'in the middle');
    downloader.socket.end();
    speaker.socket.end();
  });

  it('keeps the partial data of a client that vanishes mid-upload, hidden and resumable', async () => {
    const s = await Session.open(port);
    const data = randomBytes(100_000);
    s.send({ type: 'put', name: 'vanished.bin', size: data.length, sha256: sha(data) }, data.subarray(0, 40_000));
    const partial = join(dir, 'data', `.vanished.bin.${sha(data)}.part`);
    for (let i = 0; i < 100 && (await readFile(partial).catch(() => Buffer.alloc(0))).length < 40_000; i++) await new Promise((r) => setTimeout(r, 10));
    s.socket.resetAndDestroy();
    let kept = Buffer.alloc(0);
    for (let i = 0; i < 100; i++) {
      await new Promise((r) => setTimeout(r, 10));
      const st = await Session.open(port);
      st.send({ type: 'stat', name: 'vanished.bin' });
      const result = await st.message();
      st.socket.end();
      if (result.type === 'stat-result' && result.partials.length === 1) {
        assert.deepEqual(result, { type: 'stat-result', name: 'vanished.bin', stored: null, partials: [{ sha256: sha(data), received: 40_000 }] });
        kept = await readFile(partial);
        break;
      }
    }
    assert.ok(kept.equals(data.subarray(0, 40_000)), 'the bytes that arrived are kept as they were');
    assert.ok(!(await stored()).includes('vanished.bin'), 'nothing is visible under the name');

    // Resuming sends only the rest; the server's hash covers the whole file.
    const r = await Session.open(port);
    r.send({ type: 'put', name: 'vanished.bin', size: data.length, sha256: sha(data), offset: 40_000 }, data.subarray(40_000));
    assert.deepEqual(await r.message(), { type: 'stored', name: 'vanished.bin', size: data.length, sha256: sha(data) });
    assert.ok((await readFile(join(dir, 'data', 'vanished.bin'))).equals(data));
    assert.ok(!(await stored()).some((n) => n.endsWith('.part')), 'the partial became the file');
    r.socket.end();
  });
});

describe('TcpFileServer limits', () => {
  let dir: string;
  let server: TcpFileServer;
  let port: number;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'lab-tcp-limits-'));
    ({ server, port } = await startTestServer(join(dir, 'data'), { quotaBytes: 100_000, headerTimeoutMs: 200, maxConnections: 3 }));
  });

  after(async () => {
    await server.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('does not let two concurrent uploads pass the quota together', async () => {
    const [a, b] = [randomBytes(60_000), randomBytes(60_000)];
    const sessions = await Promise.all([Session.open(port), Session.open(port)]);
    sessions[0]!.send({ type: 'put', name: 'race-a.bin', size: a.length, sha256: sha(a) }, a);
    sessions[1]!.send({ type: 'put', name: 'race-b.bin', size: b.length, sha256: sha(b) }, b);
    const replies = await Promise.all(sessions.map((s) => s.message()));
    assert.ok(replies.some((r) => r.type === 'error' && r.code === 'LAB_ERR_QUOTA_EXCEEDED'), JSON.stringify(replies));
    const files = await readdir(join(dir, 'data'));
    let total = 0;
    for (const f of files) total += (await readFile(join(dir, 'data', f))).length;
    assert.ok(total <= 100_000, `${total} bytes stored`);
    for (const s of sessions) s.socket.destroy();
    const cleaner = await Session.open(port);
    for (const f of files.filter((f) => !f.startsWith('.'))) {
      cleaner.send({ type: 'delete', name: f });
      assert.equal((await cleaner.message()).type, 'deleted');
    }
    cleaner.socket.end();
  });

  it('does not time out a header that completed, however long its request then takes', async () => {
    const big = randomBytes(8 * 1024 * 1024);
    await writeFile(join(dir, 'data', 'slow.bin'), big);
    const s = await Session.open(port);
    const frame = encodeFrameHeader({ type: 'get', name: 'slow.bin' });
    s.socket.write(frame.subarray(0, 6));
    await new Promise((r) => setTimeout(r, 20));
    s.socket.write(frame.subarray(6));
    await new Promise((r) => setTimeout(r, 500)); // the request stays busy (nobody reads) past the 200 ms header timeout
    assert.equal((await s.message()).type, 'file');
    assert.ok((await s.body()).equals(big));
    s.socket.end();
    await rm(join(dir, 'data', 'slow.bin'));
  });

  it('refuses an upload beyond the quota before its body, and stores nothing', async () => {
    const s = await Session.open(port);
    const data = randomBytes(60_000);
    s.send({ type: 'put', name: 'fits.bin', size: data.length, sha256: sha(data) }, data);
    assert.equal((await s.message()).type, 'stored');
    const more = randomBytes(50_000);
    s.send({ type: 'put', name: 'too-much.bin', size: more.length, sha256: sha(more) }, more);
    const reply = await s.message();
    assert.equal(reply.type === 'error' && reply.code, 'LAB_ERR_QUOTA_EXCEEDED');
    await s.closedByServer();
    assert.deepEqual(await readdir(join(dir, 'data')), ['fits.bin']);
  });

  it('lets a second upload of the same content take the first over, keeping what the first wrote', async () => {
    const data = randomBytes(1000);
    const first = await Session.open(port);
    first.send({ type: 'put', name: 'same.bin', size: data.length, sha256: sha(data) }, data.subarray(0, 10));
    const second = await Session.open(port);
    await second.untilPartial('same.bin', 10);
    second.send({ type: 'put', name: 'same.bin', size: data.length, sha256: sha(data), offset: 10 }, data.subarray(10));
    assert.deepEqual(await second.message(), { type: 'stored', name: 'same.bin', size: data.length, sha256: sha(data) });
    const told = await first.message().catch(() => null);
    assert.ok(told === null || (told.type === 'error' && told.code === 'LAB_ERR_BUSY'), JSON.stringify(told));
    second.socket.end();
  });

  it('answers a connection beyond the limit with LAB_ERR_TOO_MANY_CONNECTIONS, then serves again', async () => {
    const open = await Promise.all([Session.open(port), Session.open(port), Session.open(port)]);
    const extra = await Session.open(port, false);
    const reply = await extra.message();
    assert.equal(reply.type === 'error' && reply.code, 'LAB_ERR_TOO_MANY_CONNECTIONS');
    for (const s of open) s.socket.end();
    for (const s of open) await s.closedByServer();
    await new Promise((r) => setTimeout(r, 50));
    const again = await Session.open(port);
    again.send({ type: 'list' });
    assert.equal((await again.message()).type, 'listing');
    again.socket.end();
  });

  it('tells a silent connection LAB_ERR_TIMEOUT and closes it', async () => {
    const idle = await startTestServer(join(dir, 'idle'), { idleTimeoutMs: 150, headerTimeoutMs: 1000 });
    const idleServer = idle.server;
    try {
      const s = await Session.open(idle.port);
      const reply = await s.message();
      assert.equal(reply.type === 'error' && reply.code, 'LAB_ERR_TIMEOUT');
      await s.closedByServer();
    } finally {
      await idleServer.close();
    }
  });

  it('warns when the listen backlog is above net.core.somaxconn', async () => {
    const somaxconn = Number((await readFile('/proc/sys/net/core/somaxconn', 'utf8')).trim());
    const lines: string[] = [];
    const log = new Logger({ service: 'test', format: 'json', stream: new Writable({ write: (c, _e, done) => (lines.push(String(c)), done()) }) });
    const { server: big } = await startTestServer(join(dir, 'backlog'), { log, backlog: somaxconn + 1 });
    await big.close();
    const warning = lines.map((l) => JSON.parse(l)).find((l) => l.event === 'backlog-capped');
    assert.deepEqual({ backlog: warning?.backlog, somaxconn: warning?.somaxconn }, { backlog: somaxconn + 1, somaxconn });
  });

  it('closes a connection whose header does not complete in time (slowloris)', async () => {
    const s = await Session.open(port);
    s.socket.write(Buffer.from([0, 0, 0, 50, 0x7b])); // a 50-byte header, 1 byte of it
    const started = performance.now();
    const reply = await s.message();
    assert.equal(reply.type === 'error' && reply.code, 'LAB_ERR_HEADER_TIMEOUT');
    assert.ok(performance.now() - started < 1000);
  });
});

describe('TcpFileServer against clients that would hurt the others', () => {
  let dir: string;
  let server: TcpFileServer;
  let port: number;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'lab-tcp-hostile-'));
    ({ server, port } = await startTestServer(join(dir, 'data'), { quotaBytes: 1 << 20, maxConnections: 20, maxConnectionsPerAddress: 4, headerTimeoutMs: 400 }));
  });

  /** Waits until the server has seen every earlier test's connections close (each address has a share). */
  const settled = async () => {
    for (let i = 0; i < 200 && server.connections > 0; i++) await new Promise((r) => setTimeout(r, 10));
    assert.equal(server.connections, 0);
  };
  beforeEach(settled);

  after(async () => {
    await server.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('does not let two idle put headers for the whole quota stop a third client\'s small upload', async () => {
    const idle = await Promise.all([Session.open(port), Session.open(port)]);
    for (const [i, s] of idle.entries()) s.send({ type: 'put', name: `hog-${i}.bin`, size: 1 << 20, sha256: sha(Buffer.from(`hog ${i}`)) });
    await new Promise((r) => setTimeout(r, 50));
    const small = randomBytes(1024);
    const third = await Session.open(port);
    third.send({ type: 'put', name: 'small.bin', size: small.length, sha256: sha(small) }, small);
    assert.deepEqual(await third.message(), { type: 'stored', name: 'small.bin', size: small.length, sha256: sha(small) });
    for (const s of [...idle, third]) s.socket.destroy();
  });

  it('stops an address at its share of the connections while another address still connects', async () => {
    const mine = await Promise.all([1, 2, 3, 4].map(() => Session.open(port)));
    const fifth = await Session.open(port, false);
    const refusal = await fifth.message();
    assert.equal(refusal.type === 'error' && refusal.code, 'LAB_ERR_TOO_MANY_CONNECTIONS');
    // Another address of the loopback network (127.0.0.0/8 is all loopback on Linux).
    const socket = connect({ host: '127.0.0.1', port, localAddress: '127.0.0.2' });
    await once(socket, 'connect');
    const other = new Session(socket);
    other.send({ type: 'hello', version: 1 });
    assert.equal((await other.message()).type, 'welcome');
    for (const s of [...mine, other]) s.socket.destroy();
    await new Promise((r) => setTimeout(r, 50));
  });

  it('resumes an upload at once after its connection was reset, 50 times in a row', async () => {
    const data = randomBytes(256 * 1024);
    for (let round = 0; round < 50; round++) {
      const name = `resume-${round}.bin`;
      const cut = 64 * 1024 + round * 1000;
      const first = await Session.open(port);
      first.send({ type: 'put', name, size: data.length, sha256: sha(data) }, data.subarray(0, cut));
      await new Promise((r) => setTimeout(r, round % 5)); // from "at once" to a few ms later
      first.socket.resetAndDestroy();
      // Whatever the server has noticed by now, a new connection asks what is kept and goes on from there.
      const second = await Session.open(port);
      second.send({ type: 'stat', name });
      const st = await second.message();
      assert.equal(st.type, 'stat-result');
      const offset = st.type === 'stat-result' ? (st.partials.find((p) => p.sha256 === sha(data))?.received ?? 0) : 0;
      second.send({ type: 'put', name, size: data.length, sha256: sha(data), offset }, data.subarray(offset));
      assert.deepEqual(await second.message(), { type: 'stored', name, size: data.length, sha256: sha(data) }, `round ${round}, offset ${offset}`);
      second.send({ type: 'delete', name });
      assert.equal((await second.message()).type, 'deleted');
      second.socket.end();
    }
  });

  it('refuses a put from another address of content that is being uploaded (BUSY), and the upload goes on', async () => {
    const data = randomBytes(2000);
    const first = await Session.open(port);
    first.send({ type: 'put', name: 'theirs.bin', size: data.length, sha256: sha(data) }, data.subarray(0, 100));
    const socket = connect({ host: '127.0.0.1', port, localAddress: '127.0.0.2' });
    await once(socket, 'connect');
    const other = new Session(socket);
    other.send({ type: 'hello', version: 1 });
    assert.equal((await other.message()).type, 'welcome');
    await other.untilPartial('theirs.bin', 100);
    other.send({ type: 'put', name: 'theirs.bin', size: data.length, sha256: sha(data) });
    const refusal = await other.message();
    assert.equal(refusal.type === 'error' && refusal.code, 'LAB_ERR_BUSY');
    first.socket.write(data.subarray(100));
    assert.deepEqual(await first.message(), { type: 'stored', name: 'theirs.bin', size: data.length, sha256: sha(data) });
    for (const s of [first, other]) s.socket.destroy();
  });

  it('times a header from the first byte of its length prefix, however it is split', async () => {
    const s = await Session.open(port);
    const started = performance.now();
    s.socket.write(Buffer.from([0, 0, 0])); // three bytes of the prefix...
    await new Promise((r) => setTimeout(r, 300));
    s.socket.write(Buffer.from([50])); // ...the fourth alone (nothing buffered after it)...
    await new Promise((r) => setTimeout(r, 50));
    s.socket.write(Buffer.from('{')); // ...then the header trickles
    const reply = await s.message();
    assert.equal(reply.type === 'error' && reply.code, 'LAB_ERR_HEADER_TIMEOUT');
    // A timer restarted by the header's first byte would cut at 350 + 400 ms.
    const elapsed = performance.now() - started;
    assert.ok(elapsed < 650, `cut ${Math.round(elapsed)} ms after the first byte (the limit is 400 ms)`);
  });
});
