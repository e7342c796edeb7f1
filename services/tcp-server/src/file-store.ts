import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, type ReadStream, type WriteStream } from 'node:fs';
import { mkdir, open, readdir, rename, rm, stat, type FileHandle } from 'node:fs/promises';
import { once } from 'node:events';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { checkFileName, LabError } from '@lab/protocol';
import { writeChunk } from '@lab/runtime';

export interface StoredFile {
  name: string;
  size: number;
  sha256: string;
}

export interface UploadRequest extends StoredFile {
  offset: number;
}

export interface FileStat {
  stored: { size: number; sha256: string; modified: string } | null;
  partials: { sha256: string; received: number }[];
}

interface CachedHash {
  ino: number;
  size: number;
  mtimeMs: number;
  sha256: string;
}

const PARTIAL = /^\.(.+)\.([0-9a-f]{64})\.part$/;

/**
 * Files live flat in one directory under names already checked by `checkFileName`.
 *
 * An upload is written to a hidden partial file `.NAME.SHA256.part`, hashed while it is written, and
 * renamed into place only when size and SHA-256 match: rename(2) within one file system is atomic, so a
 * reader sees the old file or the new one, never a half-written one. The directory is fsync'ed after the
 * rename so the new name survives a crash (fsync(2): syncing a file does not sync its directory entry).
 *
 * A partial is named by the content it is becoming, so an interrupted upload can be resumed by any later
 * connection that sends the same content, and a different content under the same name never appends to
 * it. It is kept when the client vanishes or the server stops, and removed when the upload commits, when
 * its hash turns out wrong, or by `delete`.
 */
export class FileStore {
  readonly dir: string;
  readonly quotaBytes: number;
  readonly #hashes = new Map<string, CachedHash>();
  readonly #active = new Set<string>();
  #reservedBytes = 0;

  constructor(dir: string, quotaBytes = Number.MAX_SAFE_INTEGER) {
    this.dir = dir;
    this.quotaBytes = quotaBytes;
  }

  async init(): Promise<void> {
    await mkdir(this.dir, { recursive: true });
  }

  #path(name: string): string {
    const invalid = checkFileName(name);
    if (invalid) throw invalid;
    return join(this.dir, name);
  }

  #partialPath(name: string, sha256: string): string {
    this.#path(name);
    return join(this.dir, `.${name}.${sha256}.part`);
  }

  /**
   * Storage counted against the quota: stored files and kept partials as they are on disk, and each
   * upload in flight at the full size it is becoming (its growing partial is skipped, so nothing is
   * counted twice).
   */
  async usage(): Promise<number> {
    let total = this.#reservedBytes;
    for (const entry of await readdir(this.dir, { withFileTypes: true })) {
      const path = join(this.dir, entry.name);
      if (entry.isFile() && !this.#active.has(path)) total += (await stat(path).catch(() => ({ size: 0 }))).size;
    }
    return total;
  }

  async list(): Promise<{ name: string; size: number; modified: string }[]> {
    const files = [];
    for (const entry of await readdir(this.dir, { withFileTypes: true })) {
      if (!entry.isFile() || entry.name.startsWith('.')) continue;
      const info = await stat(join(this.dir, entry.name)).catch(() => null);
      if (info) files.push({ name: entry.name, size: info.size, modified: info.mtime.toISOString() });
    }
    return files.sort((a, b) => a.name.localeCompare(b.name));
  }

  async stat(name: string): Promise<FileStat> {
    this.#path(name);
    let stored: FileStat['stored'] = null;
    try {
      const opened = await this.openStored(name, 0);
      stored = { size: opened.file.size, sha256: opened.file.sha256, modified: opened.modified };
      await opened.close();
    } catch (error) {
      if (!(error instanceof LabError && error.code === 'LAB_ERR_NOT_FOUND')) throw error;
    }
    const partials = [];
    for (const entry of await readdir(this.dir)) {
      const match = PARTIAL.exec(entry);
      if (!match || match[1] !== name) continue;
      const info = await stat(join(this.dir, entry)).catch(() => null);
      if (info) partials.push({ sha256: match[2]!, received: info.size });
    }
    return { stored, partials };
  }

  /** Removes the stored file and the partial uploads of `name` (not one being written right now). */
  async delete(name: string): Promise<number> {
    const targets = [this.#path(name)];
    for (const entry of await readdir(this.dir)) {
      const match = PARTIAL.exec(entry);
      if (match && match[1] === name) targets.push(join(this.dir, entry));
    }
    let removed = 0;
    for (const path of targets) {
      // Claimed while it is removed, so an upload of that content cannot start on it meanwhile (BUSY).
      if (this.#active.has(path)) continue;
      this.#active.add(path);
      try {
        await rm(path);
        removed++;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw storageError(error);
      } finally {
        this.#active.delete(path);
      }
    }
    if (removed === 0) throw new LabError('LAB_ERR_NOT_FOUND', `no stored file or partial upload named ${name}`);
    this.#hashes.delete(name);
    return removed;
  }

  /**
   * Starts (offset 0) or resumes (offset = the bytes kept) an upload; nothing is visible under `name`
   * until `commit` succeeds. Offset 0 over an existing partial starts that content over.
   */
  async beginUpload(request: UploadRequest): Promise<Upload> {
    const finalPath = this.#path(request.name);
    const partialPath = this.#partialPath(request.name, request.sha256);
    if (this.#active.has(partialPath)) {
      throw new LabError('LAB_ERR_BUSY', `${request.name} with this content is being uploaded on another connection`);
    }
    // Claimed and reserved before the first await, so two connections cannot both pass the checks
    // below on a stale view: each one's quota check sees the other's reservation.
    this.#active.add(partialPath);
    this.#reservedBytes += request.size;
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      this.#active.delete(partialPath);
      this.#reservedBytes -= request.size;
    };
    try {
      const held = (await stat(partialPath).catch(() => null))?.size ?? 0;
      if (request.offset !== 0 && request.offset !== held) {
        throw new LabError('LAB_ERR_OFFSET_MISMATCH', `the server holds ${held} bytes of this upload, not ${request.offset}`);
      }
      const usage = await this.usage();
      if (usage > this.quotaBytes) {
        throw new LabError('LAB_ERR_QUOTA_EXCEEDED', `storing ${request.size} bytes would use ${usage} of the ${this.quotaBytes}-byte quota`);
      }
      // The final hash covers the whole file, so a resumed upload first hashes the bytes already kept.
      const hash = createHash('sha256');
      if (request.offset > 0) await pipeline(createReadStream(partialPath, { start: 0, end: request.offset - 1 }), hash, { end: false });
      const out = createWriteStream(partialPath, request.offset > 0 ? { flags: 'r+', start: request.offset } : { flags: 'w' });
      out.on('error', () => {}); // surfaced by write() and the close in finish, as LAB_ERR_STORAGE
      await once(out, 'open');
      return new Upload(request, { hash, out, partialPath, finalPath, dir: this.dir, release, remember: (file) => this.#remember(file) });
    } catch (error) {
      release();
      throw storageError(error);
    }
  }

  #remember(file: CachedHash & { name: string }): void {
    this.#hashes.set(file.name, file);
  }

  /**
   * Opens a stored file for sending from `offset`. Size, hash and the bytes all come from one open file
   * descriptor, so an upload that replaces the file meanwhile (a rename onto the same name) cannot make
   * the header describe one version and the body carry another. The hash is cached per inode, size and
   * mtime, which a replacement always changes.
   */
  async openStored(name: string, offset: number): Promise<OpenedFile> {
    const path = this.#path(name);
    let handle: FileHandle;
    try {
      handle = await open(path, 'r');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw new LabError('LAB_ERR_NOT_FOUND', `no stored file named ${name}`);
      throw storageError(error);
    }
    try {
      const info = await handle.stat();
      if (!info.isFile()) throw new LabError('LAB_ERR_NOT_FOUND', `no stored file named ${name}`);
      if (offset > info.size) throw new LabError('LAB_ERR_OFFSET_MISMATCH', `offset ${offset} is beyond the ${info.size} bytes of ${name}`);
      let cached = this.#hashes.get(name);
      if (!cached || cached.ino !== info.ino || cached.size !== info.size || cached.mtimeMs !== info.mtimeMs) {
        const hash = createHash('sha256');
        await pipeline(handle.createReadStream({ start: 0, autoClose: false }), hash);
        cached = { ino: info.ino, size: info.size, mtimeMs: info.mtimeMs, sha256: hash.digest('hex') };
        this.#hashes.set(name, cached);
      }
      return {
        file: { name, size: info.size, sha256: cached.sha256 },
        modified: info.mtime.toISOString(),
        stream: () => handle.createReadStream({ start: offset, end: info.size - 1, autoClose: true }),
        close: () => handle.close(),
      };
    } catch (error) {
      await handle.close();
      throw storageError(error);
    }
  }
}

export interface OpenedFile {
  file: StoredFile;
  modified: string;
  /** The file's bytes from the offset on, from the same descriptor; closes it when done or destroyed. */
  stream: () => ReadStream;
  /** Closes the descriptor when the stream is never used. */
  close: () => Promise<void>;
}

interface UploadParts {
  hash: ReturnType<typeof createHash>;
  out: WriteStream;
  partialPath: string;
  finalPath: string;
  dir: string;
  release: () => void;
  remember: (file: CachedHash & { name: string }) => void;
}

export class Upload {
  readonly request: UploadRequest;
  readonly #parts: UploadParts;
  #received = 0;
  #finished = false;

  constructor(request: UploadRequest, parts: UploadParts) {
    this.request = request;
    this.#parts = parts;
  }

  /** Bytes received on this connection (from the offset on). */
  get received(): number {
    return this.#received;
  }

  /** Resolves when the disk has taken the chunk or its buffer has room again (backpressure). */
  async write(chunk: Buffer): Promise<void> {
    this.#received += chunk.length;
    this.#parts.hash.update(chunk);
    try {
      await writeChunk(this.#parts.out, chunk);
    } catch (error) {
      throw new LabError('LAB_ERR_STORAGE', `cannot write the upload: ${(error as Error).message}`, { cause: error });
    }
  }

  /** Verifies size and hash, then makes the file visible atomically. On mismatch the partial is removed. */
  async commit(): Promise<StoredFile> {
    const { hash, partialPath, finalPath, dir } = this.#parts;
    try {
      await this.#finish();
      const total = this.request.offset + this.#received;
      const sha256 = hash.digest('hex');
      if (total !== this.request.size || sha256 !== this.request.sha256) {
        await rm(partialPath, { force: true });
        throw new LabError(
          'LAB_ERR_HASH_MISMATCH',
          `received ${total} bytes with SHA-256 ${sha256}, expected ${this.request.size} bytes with ${this.request.sha256}`,
        );
      }
      // Identity taken from the partial itself before the rename (which keeps inode and mtime): a
      // stat of the final name afterwards could see another upload's file renamed there meanwhile.
      const identity = await syncAndStat(partialPath);
      await rename(partialPath, finalPath);
      await syncAndStat(dir);
      this.#parts.remember({ name: this.request.name, ino: identity.ino, size: identity.size, mtimeMs: identity.mtimeMs, sha256 });
      return { name: this.request.name, size: total, sha256 };
    } catch (error) {
      throw storageError(error);
    } finally {
      this.#parts.release();
    }
  }

  /**
   * The connection ended before the body did (the client vanished, or the server is stopping): keep what
   * arrived, synced to disk, so the upload can be resumed. Idempotent.
   */
  async suspend(): Promise<void> {
    if (this.#finished) return;
    try {
      await this.#finish();
      await syncAndStat(this.#parts.partialPath);
    } catch {
      // The partial stays as it is; its size tells a resuming client where to start.
    } finally {
      this.#parts.release();
    }
  }

  async #finish(): Promise<void> {
    if (this.#finished) return;
    this.#finished = true;
    const { out } = this.#parts;
    out.end();
    if (!out.closed) await once(out, 'close').catch((error: unknown) => Promise.reject(storageError(error)));
    if (out.errored) throw storageError(out.errored);
  }
}

function storageError(error: unknown): LabError {
  if (error instanceof LabError) return error;
  return new LabError('LAB_ERR_STORAGE', (error as Error).message, { cause: error });
}

/** fsync(2)s a file or directory and returns its identity (inode, size, mtime) from the same descriptor. */
async function syncAndStat(path: string): Promise<{ ino: number; size: number; mtimeMs: number }> {
  const handle = await open(path, 'r');
  try {
    await handle.sync();
    return await handle.stat();
  } finally {
    await handle.close();
  }
}
