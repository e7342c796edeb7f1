import { createHash, randomUUID } from 'node:crypto';
import { createWriteStream, type ReadStream, type WriteStream } from 'node:fs';
import { mkdir, open, rename, rm, type FileHandle } from 'node:fs/promises';
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

/**
 * Files live flat in one directory under names already checked by `checkFileName`. An upload is written
 * to a hidden temporary file, hashed while it is written, fsync'ed, and renamed into place only when size
 * and SHA-256 match: rename(2) within one file system is atomic, so a reader sees the old file or the
 * new one, never a half-written one. The directory is fsync'ed after the rename so the new name survives
 * a crash (fsync(2): syncing a file does not sync its directory entry).
 */
export class FileStore {
  readonly dir: string;

  constructor(dir: string) {
    this.dir = dir;
  }

  async init(): Promise<void> {
    await mkdir(this.dir, { recursive: true });
  }

  #path(name: string): string {
    const invalid = checkFileName(name);
    if (invalid) throw invalid;
    return join(this.dir, name);
  }

  /** Starts an upload; nothing is visible under `name` until `commit` succeeds. */
  beginUpload(expected: StoredFile): Upload {
    const finalPath = this.#path(expected.name);
    const tempPath = join(this.dir, `.${expected.name}.${randomUUID()}.part`);
    return new Upload(expected, tempPath, finalPath, this.dir);
  }

  /**
   * Opens a stored file for sending. Size, hash and the bytes all come from one open file descriptor,
   * so an upload that replaces the file meanwhile (a rename onto the same name) cannot make the header
   * describe one version and the body carry another.
   */
  async openStored(name: string): Promise<OpenedFile> {
    const path = this.#path(name);
    let handle: FileHandle;
    try {
      handle = await open(path, 'r');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw new LabError('LAB_ERR_NOT_FOUND', `no stored file named ${name}`);
      throw new LabError('LAB_ERR_STORAGE', (error as Error).message, { cause: error });
    }
    try {
      const info = await handle.stat();
      if (!info.isFile()) throw new LabError('LAB_ERR_NOT_FOUND', `no stored file named ${name}`);
      const hash = createHash('sha256');
      await pipeline(handle.createReadStream({ start: 0, autoClose: false }), hash);
      return {
        file: { name, size: info.size, sha256: hash.digest('hex') },
        stream: () => handle.createReadStream({ start: 0, end: Math.max(0, info.size - 1), autoClose: true }),
        close: () => handle.close(),
      };
    } catch (error) {
      await handle.close();
      if (error instanceof LabError) throw error;
      throw new LabError('LAB_ERR_STORAGE', (error as Error).message, { cause: error });
    }
  }
}

export interface OpenedFile {
  file: StoredFile;
  /** The file's bytes from the same descriptor; the stream closes the descriptor when it ends. */
  stream: () => ReadStream;
  /** Closes the descriptor when the stream is never used. */
  close: () => Promise<void>;
}

export class Upload {
  readonly expected: StoredFile;
  readonly #tempPath: string;
  readonly #finalPath: string;
  readonly #dir: string;
  readonly #hash = createHash('sha256');
  readonly #out: WriteStream;
  #received = 0;
  #done = false;

  constructor(expected: StoredFile, tempPath: string, finalPath: string, dir: string) {
    this.expected = expected;
    this.#tempPath = tempPath;
    this.#finalPath = finalPath;
    this.#dir = dir;
    // 'wx': never reuse or follow an existing path.
    this.#out = createWriteStream(tempPath, { flags: 'wx' });
    this.#out.on('error', () => {}); // surfaced by write() and commit(), as LAB_ERR_STORAGE
  }

  get received(): number {
    return this.#received;
  }

  /** Resolves when the disk has taken the chunk or its buffer has room again (backpressure). */
  async write(chunk: Buffer): Promise<void> {
    this.#received += chunk.length;
    this.#hash.update(chunk);
    try {
      await writeChunk(this.#out, chunk);
    } catch (error) {
      throw new LabError('LAB_ERR_STORAGE', `cannot write the upload: ${(error as Error).message}`, { cause: error });
    }
  }

  /** Verifies size and hash, then makes the file visible atomically. On mismatch nothing changes. */
  async commit(): Promise<StoredFile> {
    this.#done = true;
    this.#out.end();
    try {
      await once(this.#out, 'close');
    } catch (error) {
      await this.#removeTemp();
      throw new LabError('LAB_ERR_STORAGE', (error as Error).message, { cause: error });
    }
    const sha256 = this.#hash.digest('hex');
    if (this.#received !== this.expected.size || sha256 !== this.expected.sha256) {
      await this.#removeTemp();
      throw new LabError(
        'LAB_ERR_HASH_MISMATCH',
        `received ${this.#received} bytes with SHA-256 ${sha256}, expected ${this.expected.size} bytes with ${this.expected.sha256}`,
      );
    }
    try {
      await fsyncPath(this.#tempPath);
      await rename(this.#tempPath, this.#finalPath);
      await fsyncPath(this.#dir);
    } catch (error) {
      await this.#removeTemp();
      throw new LabError('LAB_ERR_STORAGE', (error as Error).message, { cause: error });
    }
    return { name: this.expected.name, size: this.#received, sha256 };
  }

  /** Drops the partial data (the peer vanished or the server is stopping). Idempotent. */
  async abort(): Promise<void> {
    if (this.#done) return;
    this.#done = true;
    this.#out.destroy();
    await this.#removeTemp();
  }

  async #removeTemp(): Promise<void> {
    await rm(this.#tempPath, { force: true });
  }
}

async function fsyncPath(path: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
