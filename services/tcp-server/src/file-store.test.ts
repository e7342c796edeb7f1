import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { LabError } from '@lab/protocol';
import { FileStore, type StoreLimits } from './file-store.ts';

const sha = (data: Buffer) => createHash('sha256').update(data).digest('hex');
const owner = (address: string) => ({ address, takenOver: () => {} });

describe('FileStore partial uploads', () => {
  let root: string;
  let n = 0;
  before(async () => (root = await mkdtemp(join(tmpdir(), 'lab-store-'))));
  after(() => rm(root, { recursive: true, force: true }));

  async function store(limits: Partial<StoreLimits> = {}, clock = () => 1_000_000): Promise<FileStore> {
    const s = new FileStore(join(root, `d${n++}`), limits, clock);
    await s.init();
    s.close();
    return s;
  }

  /** Starts an upload of `data`, writes its first `sent` bytes, and interrupts it (the client vanished). */
  async function cut(s: FileStore, name: string, data: Buffer, sent: number, address = '10.0.0.1', reason: LabError | null = null) {
    const upload = await s.beginUpload({ name, size: data.length, sha256: sha(data), offset: 0 }, owner(address));
    if (sent > 0) await upload.write(data.subarray(0, sent));
    await upload.interrupt(reason);
  }

  it('keeps what arrived, and removes it once it has not been written for the TTL', async () => {
    let now = 1_000_000;
    const s = await store({ partials: { ttlMs: 60_000 } as StoreLimits['partials'] }, () => now);
    const data = randomBytes(100);
    await cut(s, 'a', data, 40);
    assert.deepEqual((await s.stat('a')).partials, [{ sha256: sha(data), received: 40 }]);
    now += 59_000;
    assert.equal(await s.expire(), 0);
    now += 1_000;
    assert.equal(await s.expire(), 1);
    assert.deepEqual((await s.stat('a')).partials, []);
    assert.deepEqual(await readdir(s.dir), []);
    assert.equal(s.usedBytes, 0);
  });

  it('keeps no partial of an upload that sent nothing (a bare put header)', async () => {
    const s = await store();
    await cut(s, 'bare', randomBytes(100), 0);
    assert.deepEqual(await readdir(s.dir), []);
  });

  it('drops an upload stopped for want of space, so that the space is free again', async () => {
    const s = await store();
    await cut(s, 'big', randomBytes(100), 60, '10.0.0.1', new LabError('LAB_ERR_DISK_FULL'));
    await cut(s, 'over', randomBytes(100), 60, '10.0.0.1', new LabError('LAB_ERR_QUOTA_EXCEEDED'));
    assert.deepEqual(await readdir(s.dir), []);
    assert.equal(s.usedBytes, 0);
  });

  it('keeps each address within its share: its own oldest partials make room, others\' stay', async () => {
    const s = await store({ partials: { ttlMs: 1e9, maxCount: 100, maxBytes: 1e9, maxCountPerAddress: 2, maxBytesPerAddress: 1e9 } });
    const other = randomBytes(50);
    await cut(s, 'theirs', other, 10, '10.0.0.2');
    for (const name of ['one', 'two', 'three']) await cut(s, name, randomBytes(50), 10, '10.0.0.1');
    const kept = (await readdir(s.dir)).map((f) => f.split('.')[1]).sort();
    assert.deepEqual(kept, ['theirs', 'three', 'two']);
  });

  it('holds an address to its share when many of its uploads are cut at the same moment', async () => {
    const s = await store({ partials: { ttlMs: 1e9, maxCount: 100, maxBytes: 1e9, maxCountPerAddress: 2, maxBytesPerAddress: 100_000 } });
    const uploads = [];
    for (let i = 0; i < 10; i++) {
      const data = randomBytes(50_000);
      const upload = await s.beginUpload({ name: `c${i}`, size: data.length, sha256: sha(data), offset: 0 }, owner('10.0.0.9'));
      await upload.write(data.subarray(0, 45_000));
      uploads.push(upload);
    }
    await Promise.all(uploads.map((u) => u.interrupt(null)));
    const kept = await readdir(s.dir);
    assert.equal(kept.length, 2, kept.join(' '));
    assert.ok(s.usedBytes <= 100_000, `${s.usedBytes} bytes kept`);
  });

  it('at the totals, keeps nothing of a newcomer\'s upload and removes nothing of anyone else\'s', async () => {
    const s = await store({ partials: { ttlMs: 1e9, maxCount: 2, maxBytes: 1e9, maxCountPerAddress: 10, maxBytesPerAddress: 1e9 } });
    await cut(s, 'first', randomBytes(50), 20, '10.0.0.1');
    await cut(s, 'second', randomBytes(50), 20, '10.0.0.2');
    await cut(s, 'third', randomBytes(50), 20, '10.0.0.3');
    await cut(s, 'bare', randomBytes(50), 0, '10.0.0.3');
    assert.deepEqual((await readdir(s.dir)).map((f) => f.split('.')[1]).sort(), ['first', 'second']);
  });

  it('when a resumed upload runs out of space, drops what it wrote and keeps what was kept before', async () => {
    const s = await store({ quotaBytes: 1000 });
    const data = randomBytes(900);
    await cut(s, 'grow', data, 300);
    const filler = randomBytes(500);
    const other = await s.beginUpload({ name: 'filler', size: filler.length, sha256: sha(filler), offset: 0 }, owner('10.0.0.2'));
    const resumed = await s.beginUpload({ name: 'grow', size: data.length, sha256: sha(data), offset: 300 }, owner('10.0.0.1'));
    await other.write(filler);
    await resumed.write(data.subarray(300, 400));
    const refused = await resumed.write(data.subarray(400)).catch((e: LabError) => e);
    assert.equal((refused as LabError).code, 'LAB_ERR_QUOTA_EXCEEDED');
    await resumed.interrupt(refused as LabError);
    assert.deepEqual((await s.stat('grow')).partials, [{ sha256: sha(data), received: 300 }]);
    assert.equal((await readFile(join(s.dir, `.grow.${sha(data)}.part`))).length, 300);
    assert.deepEqual(await other.commit(), { name: 'filler', size: 500, sha256: sha(filler) });
  });

  it('resumes at a smaller offset than it holds by discarding the bytes beyond it', async () => {
    const s = await store();
    const data = randomBytes(1000);
    await cut(s, 'r', data, 600);
    const upload = await s.beginUpload({ name: 'r', size: data.length, sha256: sha(data), offset: 250 }, owner('10.0.0.3'));
    await upload.write(data.subarray(250));
    assert.deepEqual(await upload.commit(), { name: 'r', size: 1000, sha256: sha(data) });
    assert.ok((await readFile(join(s.dir, 'r'))).equals(data));
    await assert.rejects(
      s.beginUpload({ name: 'r2', size: data.length, sha256: sha(data), offset: 1 }, owner('10.0.0.3')),
      (e: LabError) => e.code === 'LAB_ERR_OFFSET_MISMATCH',
    );
  });

  it('at start, removes expired partials and the oldest beyond the totals, and counts the rest', async () => {
    const dir = join(root, 'found');
    await rm(dir, { recursive: true, force: true });
    const s0 = new FileStore(dir);
    await s0.init();
    s0.close();
    const hex = (i: number) => i.toString(16).padStart(64, '0');
    for (let i = 0; i < 6; i++) {
      const path = join(dir, `.f${i}.${hex(i)}.part`);
      await writeFile(path, 'x'.repeat(10));
      await utimes(path, 1000 + i, 1000 + i); // seconds: f0 is the oldest
    }
    await writeFile(join(dir, 'kept.txt'), 'stored');
    const s = new FileStore(dir, { partials: { ttlMs: 1e14, maxCount: 4, maxBytes: 1e9, maxCountPerAddress: 1, maxBytesPerAddress: 1 } });
    assert.deepEqual(await s.init(), { stored: 1, partials: 6, removed: 2 });
    s.close();
    assert.deepEqual((await readdir(dir)).filter((f) => f.endsWith('.part')).map((f) => f.split('.')[1]).sort(), ['f2', 'f3', 'f4', 'f5']);
    assert.equal(s.usedBytes, 4 * 10 + 6);
  });
});
