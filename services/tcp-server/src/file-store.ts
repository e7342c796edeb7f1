import { createHash } from 'node:crypto';
import { createReadStream, type ReadStream, type WriteStream } from 'node:fs';
import { mkdir, open, readdir, rename, rm, stat, statfs, truncate, type FileHandle } from 'node:fs/promises';
import { once } from 'node:events';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { checkFileName, LabError } from '@lab/protocol';
import { FILE_CHUNK_BYTES, writeChunk } from '@lab/stream-io';
import { diskReserveFor, type DiskReserve } from './disk-reserve.ts';
import { StorageLedger, type PartialEntry, type PartialLimits } from './storage-ledger.ts';

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

export interface StoreLimits {
  /** Stored files plus partials (kept, or being written) may not pass this many bytes. */
  quotaBytes: number;
  /**
   * Free space on the data directory's file system that uploads never take, so that the server can always
   * answer: bytes, or `auto` (the smaller of 64 MiB and 5% of that file system, found at `init`).
   */
  diskReserveBytes: DiskReserve;
  partials: PartialLimits;
}

export const DEFAULT_STORE_LIMITS: StoreLimits = {
  quotaBytes: Number.MAX_SAFE_INTEGER,
  diskReserveBytes: 0,
  partials: {
    ttlMs: 24 * 3600_000,
    maxCount: 1000,
    maxBytes: 8 * 1024 ** 3,
    maxCountPerAddress: 100,
    maxBytesPerAddress: 4 * 1024 ** 3,
  },
};

/** Who is uploading: the client's address (partials are capped per address) and how to stop it. */
export interface UploadOwner {
  address: string;
  /** Another connection resumed this same content: the upload stops and this connection is closed. */
  takenOver: () => void;
}

interface CachedHash {
  ino: number;
  size: number;
  mtimeMs: number;
  sha256: string;
}

const PARTIAL = /^\.(.+)\.([0-9a-f]{64})\.part$/;

/**
 * Free space is asked of the file system (statfs(2)) again after every this many bytes written by all
 * uploads together, and at every write once the estimate is near the reserve: the reserve can be
 * overrun by at most this much (one statfs per chunk would cost more than the write).
 */
const DISK_CHECK_EVERY_BYTES = 4 * 1024 * 1024;

/**
 * The two refusals for want of space: what the upload wrote on this connection is dropped, so that the
 * space is free again (what earlier connections kept of it stays).
 */
export function isSpaceError(error: LabError | null): boolean {
  return error?.code === 'LAB_ERR_QUOTA_EXCEEDED' || error?.code === 'LAB_ERR_DISK_FULL';
}

/**
 * One upload's hold on its partial file. A second connection from the same address with the same
 * content takes it over (the client reconnected); from another address it is refused (BUSY).
 */
class Claim {
  readonly entry: PartialEntry;
  readonly address: string;
  readonly released: Promise<void>;
  takenOver = false;
  onTakeOver: () => void;
  #release!: () => void;

  constructor(entry: PartialEntry, owner: UploadOwner) {
    this.entry = entry;
    this.address = owner.address;
    this.onTakeOver = owner.takenOver;
    this.released = new Promise((resolve) => (this.#release = resolve));
  }

  takeOver(): void {
    if (this.takenOver) return;
    this.takenOver = true;
    this.onTakeOver();
  }

  release(): void {
    this.entry.active = false;
    this.#release();
  }
}

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
 * it. It is kept when the client vanishes or the server stops (within the caps of `PartialLimits`, and
 * until it expires), and removed when the upload commits, when its hash turns out wrong, or by `delete`;
 * an upload stopped for want of space (quota or disk) loses what it wrote on that connection.
 *
 * The directory is read once, at `init`; from then on the ledger knows what it holds, so no request's
 * work grows with the number of files. The server must be the directory's only writer.
 */
export class FileStore {
  readonly dir: string;
  readonly limits: StoreLimits;
  readonly #hashes = new Map<string, CachedHash>();
  readonly #ledger = new StorageLedger();
  readonly #claims = new Map<string, Claim>();
  readonly #clock: () => number;
  #expiryTimer: NodeJS.Timeout | null = null;
  /** Partials are settled, expired and evicted one operation at a time, each on the ledger as it is. */
  #housekeeping: Promise<unknown> = Promise.resolve();
  /** Free bytes as last asked of the file system, less what uploads wrote since. */
  #disk: { free: number; sinceCheck: number } | null = null;
  /** The disk reserve in bytes: the setting, or what `auto` came to for this file system at `init`. */
  #reserveBytes: number;

  constructor(dir: string, limits: Partial<StoreLimits> = {}, clock: () => number = Date.now) {
    this.dir = dir;
    this.limits = {
      quotaBytes: limits.quotaBytes ?? DEFAULT_STORE_LIMITS.quotaBytes,
      diskReserveBytes: limits.diskReserveBytes ?? DEFAULT_STORE_LIMITS.diskReserveBytes,
      partials: { ...DEFAULT_STORE_LIMITS.partials, ...limits.partials },
    };
    this.#clock = clock;
    this.#reserveBytes = this.limits.diskReserveBytes === 'auto' ? 0 : this.limits.diskReserveBytes;
  }

  /** Free space uploads leave on the data directory's file system, in bytes. */
  get diskReserveBytes(): number {
    return this.#reserveBytes;
  }

  /** Reads the directory once, removes expired partials and those over the caps, and starts expiring the rest. */
  async init(): Promise<{ stored: number; partials: number; removed: number }> {
    await mkdir(this.dir, { recursive: true });
    const volume = await statfs(this.dir);
    this.#reserveBytes = diskReserveFor(this.limits.diskReserveBytes, volume.blocks * volume.bsize);
    let stored = 0;
    for (const entry of await readdir(this.dir, { withFileTypes: true })) {
      if (!entry.isFile()) continue;
      const info = await stat(join(this.dir, entry.name)).catch(() => null);
      if (!info) continue;
      const partial = PARTIAL.exec(entry.name);
      if (partial) {
        this.#ledger.addPartial({ file: entry.name, name: partial[1]!, sha256: partial[2]!, size: info.size, owner: null, touchedMs: info.mtimeMs, active: false });
      } else if (!checkFileName(entry.name)) {
        this.#ledger.setStored(entry.name, info.size);
        stored++;
      }
    }
    const found = this.#ledger.partialCount;
    let removed = await this.expire();
    removed += await this.#serial(async () => {
      let n = 0;
      for (const entry of this.#ledger.overTotals(this.limits.partials)) if (await this.#removePartial(entry)) n++;
      return n;
    });
    this.#expiryTimer ??= setInterval(() => void this.expire().catch(() => {}), Math.min(this.limits.partials.ttlMs, 60_000)).unref();
    return { stored, partials: found, removed };
  }

  /** Stops the expiry timer (tests; the server's process exits anyway). */
  close(): void {
    if (this.#expiryTimer) clearInterval(this.#expiryTimer);
    this.#expiryTimer = null;
  }

  /** Removes kept partials not written for the TTL; returns how many (one that cannot be removed is tried again next time). */
  expire(): Promise<number> {
    return this.#serial(async () => {
      let removed = 0;
      for (const entry of this.#ledger.expired(this.#clock(), this.limits.partials.ttlMs)) if (await this.#removePartial(entry)) removed++;
      return removed;
    });
  }

  /** Runs `work` after every housekeeping operation before it, and before any after it. */
  #serial<T>(work: () => Promise<T>): Promise<T> {
    const run = this.#housekeeping.then(work);
    this.#housekeeping = run.catch(() => {});
    return run;
  }

  /** Bytes counted against the quota: stored files, and partials kept or being written, as written so far. */
  get usedBytes(): number {
    return this.#ledger.usedBytes;
  }

  #path(name: string): string {
    const invalid = checkFileName(name);
    if (invalid) throw invalid;
    return join(this.dir, name);
  }

  /**
   * Removes a kept partial (expired, making room, deleted); true if it did. One being written, or no
   * longer the ledger's (a newer upload of that content), is left alone; one that cannot be removed
   * stays counted, and is tried again by the next expiry.
   */
  async #removePartial(entry: PartialEntry): Promise<boolean> {
    if (entry.active || !this.#ledger.holds(entry)) return false;
    // Claimed while it is removed, so that an upload of that content cannot start on it meanwhile (BUSY).
    entry.active = true;
    try {
      await rm(join(this.dir, entry.file), { force: true });
      this.#ledger.removePartial(entry);
      return true;
    } catch {
      return false;
    } finally {
      entry.active = false;
    }
  }

  async #freeBytes(): Promise<number> {
    const fs = await statfs(this.dir);
    const free = fs.bavail * fs.bsize;
    this.#disk = { free, sinceCheck: 0 };
    return free;
  }

  /** Counts `n` bytes about to be written by an upload; LAB_ERR_DISK_FULL if they would eat into the reserve. */
  async #takeDisk(n: number): Promise<void> {
    const reserve = this.#reserveBytes;
    if (!this.#disk || this.#disk.sinceCheck >= DISK_CHECK_EVERY_BYTES || this.#disk.free - n < reserve) await this.#freeBytes();
    const disk = this.#disk!;
    if (disk.free - n < reserve) throw new LabError('LAB_ERR_DISK_FULL', `the disk has ${disk.free} bytes free, and ${reserve} are kept in reserve`);
    disk.free -= n;
    disk.sinceCheck += n;
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
    const partials = this.#ledger.partialsOf(name).map((p) => ({ sha256: p.sha256, received: p.size }));
    return { stored, partials };
  }

  /** Removes the stored file and the partial uploads of `name` (not one being written right now). */
  async delete(name: string): Promise<number> {
    const finalPath = this.#path(name);
    let removed = await this.#serial(async () => {
      let n = 0;
      for (const entry of this.#ledger.partialsOf(name)) if (await this.#removePartial(entry)) n++;
      return n;
    });
    try {
      await rm(finalPath);
      removed++;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw storageError(error);
    }
    this.#ledger.removeStored(name);
    if (removed === 0) throw new LabError('LAB_ERR_NOT_FOUND', `no stored file or partial upload named ${name}`);
    this.#hashes.delete(name);
    return removed;
  }

  /**
   * Starts (offset 0) or resumes an upload; nothing is visible under `name` until `commit` succeeds.
   * `offset` may be at most the bytes kept for this content: kept bytes beyond it are discarded (the
   * client sends them again), and offset 0 starts that content over. If a connection from the same
   * address is still writing this content, this one takes it over: the other stops, what it wrote is
   * kept, and this one goes on from there (the client reconnected and resumes at once, before the server
   * noticed that its old connection is gone). From another address, that is LAB_ERR_BUSY.
   *
   * Space is counted as it is written, not reserved: a put is refused before its body when what is
   * stored plus what it still has to send passes the quota, or does not fit on the disk beside the
   * reserve; uploads that send nothing hold nothing. A refused put changes nothing.
   */
  async beginUpload(request: UploadRequest, owner: UploadOwner): Promise<Upload> {
    const finalPath = this.#path(request.name);
    const file = `.${request.name}.${request.sha256}.part`;
    const partialPath = join(this.dir, file);
    for (let attempt = 0; ; attempt++) {
      const running = this.#claims.get(file);
      if (!running) break;
      if (running.address !== owner.address) {
        throw new LabError('LAB_ERR_BUSY', `${request.name} with this content is being uploaded by another client`);
      }
      if (attempt >= 3) throw new LabError('LAB_ERR_BUSY', `${request.name} with this content is being taken over by other connections`);
      running.takeOver();
      await running.released;
    }
    if (this.#ledger.partial(file)?.active) {
      throw new LabError('LAB_ERR_BUSY', `${request.name} with this content is being removed`);
    }
    // Claimed before the first await, so that two connections cannot both pass the checks below.
    const existing = this.#ledger.partial(file);
    const entry = existing ?? this.#ledger.addPartial({ file, name: request.name, sha256: request.sha256, size: 0, owner: owner.address, touchedMs: this.#clock(), active: true });
    entry.active = true;
    const claim = new Claim(entry, owner);
    this.#claims.set(file, claim);
    const release = () => {
      this.#claims.delete(file);
      claim.release();
    };
    const stillOurs = () => {
      if (claim.takenOver) throw new LabError('LAB_ERR_BUSY', `${request.name} with this content was taken over by another connection`);
    };
    let changed = false;
    try {
      const held = entry.size;
      if (request.offset > held) {
        throw new LabError('LAB_ERR_OFFSET_MISMATCH', `the server holds ${held} bytes of this upload, not ${request.offset}`);
      }
      const remaining = request.size - request.offset;
      const used = this.#ledger.usedBytes - (held - request.offset);
      if (used + remaining > this.limits.quotaBytes) {
        throw new LabError('LAB_ERR_QUOTA_EXCEEDED', `storing ${remaining} more bytes would use ${used + remaining} of the ${this.limits.quotaBytes}-byte quota`);
      }
      const free = await this.#freeBytes();
      if (remaining + this.#reserveBytes > free) {
        throw new LabError('LAB_ERR_DISK_FULL', `${remaining} bytes do not fit: ${free} bytes free, of which ${this.#reserveBytes} are kept in reserve`);
      }
      stillOurs();
      // From here on the partial is this upload's: its writer, its clock, its length.
      changed = true;
      entry.owner = owner.address;
      entry.touchedMs = this.#clock();
      if (request.offset < held) await truncate(partialPath, request.offset);
      this.#ledger.resizePartial(entry, request.offset);
      // The final hash covers the whole file, so a resumed upload first hashes the bytes already kept.
      const hash = createHash('sha256');
      if (request.offset > 0) await pipeline(createReadStream(partialPath, { start: 0, end: request.offset - 1, highWaterMark: FILE_CHUNK_BYTES }), hash, { end: false });
      // The stream writes through a descriptor of ours, which can also be synced while it writes.
      const file = await open(partialPath, request.offset > 0 ? 'r+' : 'w');
      const out = file.createWriteStream({ start: request.offset, highWaterMark: FILE_CHUNK_BYTES });
      out.on('error', () => {}); // surfaced by write() and the close in finish, as LAB_ERR_STORAGE or LAB_ERR_DISK_FULL
      try {
        stillOurs();
      } catch (error) {
        out.destroy();
        throw error;
      }
      return new Upload(request, {
        hash,
        out,
        datasync: () => file.datasync(),
        claim,
        partialPath,
        finalPath,
        dir: this.dir,
        release,
        quotaBytes: this.limits.quotaBytes,
        usedBytes: () => this.#ledger.usedBytes,
        grew: (n) => this.#ledger.resizePartial(entry, entry.size + n, this.#clock()),
        takeDisk: (n) => this.#takeDisk(n),
        committed: (file) => {
          this.#ledger.removePartial(entry);
          this.#ledger.setStored(file.name, file.size);
          this.#hashes.set(file.name, file);
        },
        settle: (how) => this.#settle(entry, partialPath, how, request.offset),
      });
    } catch (error) {
      if (!existing) {
        await rm(partialPath, { force: true }).catch(() => {});
        this.#ledger.removePartial(entry);
      } else if (changed) {
        await this.#settle(entry, partialPath, 'keep', request.offset).catch(() => {});
      }
      release();
      throw storageError(error);
    }
  }

  /**
   * After an upload ended without a commit, one at a time:
   * - `remove` (its hash was wrong): the partial goes;
   * - `rollback` (stopped for want of space): what this connection wrote goes, what was kept before stays;
   * - `keep` (the client vanished, the server is stopping, another connection took over): synced and
   *   kept for resuming, within the caps (`StorageLedger.planKeep`).
   * A partial that cannot be removed or cut stays counted, as it is on disk, and expires later.
   */
  #settle(entry: PartialEntry, path: string, how: 'keep' | 'rollback' | 'remove', offset: number): Promise<void> {
    return this.#serial(async () => {
      const remove = async () => {
        try {
          await rm(path, { force: true });
          this.#ledger.removePartial(entry);
        } catch {
          await this.#recount(entry, path);
        }
      };
      if (how === 'remove' || (how === 'rollback' && offset === 0)) return remove();
      if (how === 'rollback') await truncate(path, offset).catch(() => {});
      const info = (await syncAndStat(path).catch(() => null)) ?? (await stat(path).catch(() => null));
      if (!info) return this.#ledger.removePartial(entry);
      this.#ledger.resizePartial(entry, info.size);
      entry.active = false; // kept from now on: it counts among the partials the next plan sees
      const plan = this.#ledger.planKeep(entry, this.limits.partials);
      for (const other of plan.evict) await this.#removePartial(other);
      if (plan.keepBytes === 0) return remove();
      if (plan.keepBytes < info.size) {
        await truncate(path, plan.keepBytes).catch(() => {});
        await this.#recount(entry, path);
      }
    });
  }

  /** Sets a partial's size in the ledger to what the disk says (gone: forgotten). */
  async #recount(entry: PartialEntry, path: string): Promise<void> {
    const info = await stat(path).catch(() => null);
    if (info) this.#ledger.resizePartial(entry, info.size);
    else this.#ledger.removePartial(entry);
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
        await pipeline(handle.createReadStream({ start: 0, autoClose: false, highWaterMark: FILE_CHUNK_BYTES }), hash);
        cached = { ino: info.ino, size: info.size, mtimeMs: info.mtimeMs, sha256: hash.digest('hex') };
        this.#hashes.set(name, cached);
      }
      return {
        file: { name, size: info.size, sha256: cached.sha256 },
        modified: info.mtime.toISOString(),
        stream: () => handle.createReadStream({ start: offset, end: info.size - 1, autoClose: true, highWaterMark: FILE_CHUNK_BYTES }),
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
  /** fdatasync(2) of the partial, through the stream's own descriptor. */
  datasync: () => Promise<void>;
  claim: Claim;
  partialPath: string;
  finalPath: string;
  dir: string;
  release: () => void;
  quotaBytes: number;
  usedBytes: () => number;
  /** The partial grew by n bytes (counted before the disk has them, so the quota holds across uploads). */
  grew: (n: number) => void;
  /** Counts n bytes about to be written; LAB_ERR_DISK_FULL if they would eat into the disk's reserve. */
  takeDisk: (n: number) => Promise<void>;
  committed: (file: CachedHash & { name: string }) => void;
  settle: (how: 'keep' | 'rollback' | 'remove') => Promise<void>;
}

/**
 * Every this many bytes of an upload, the disk is asked to write them out (fdatasync(2)) while the rest
 * arrives, so the fsync before the rename has only the tail left to wait for: done at the end alone, it
 * cost a sixth of a fast upload's time. The final fsync stays, and is what the guarantee rests on.
 */
const WRITEBACK_EVERY_BYTES = 32 << 20;

export class Upload {
  readonly request: UploadRequest;
  readonly #parts: UploadParts;
  #received = 0;
  #finished = false;
  #unflushed = 0;
  #flushing: Promise<void> | null = null;
  /** A background fdatasync's error: reported by the commit, since a later fsync on another descriptor may not see it (fsync(2), errseq). */
  #flushError: unknown = null;

  constructor(request: UploadRequest, parts: UploadParts) {
    this.request = request;
    this.#parts = parts;
  }

  /** Bytes received on this connection (from the offset on). */
  get received(): number {
    return this.#received;
  }

  /**
   * Resolves when the disk has taken the chunk or its buffer has room again (backpressure). Refuses it
   * when another connection took the upload over, or when it would pass the quota or eat into the disk's
   * reserve (uploads side by side can, since nothing is reserved ahead).
   */
  async write(chunk: Buffer): Promise<void> {
    const parts = this.#parts;
    if (parts.claim.takenOver) throw new LabError('LAB_ERR_BUSY', 'another connection took this upload over (it resumed the same content)');
    if (parts.usedBytes() + chunk.length > parts.quotaBytes) {
      throw new LabError('LAB_ERR_QUOTA_EXCEEDED', `the uploads in flight together passed the ${parts.quotaBytes}-byte quota`);
    }
    if (this.#flushError) throw storageError(this.#flushError, 'the disk failed to write the upload');
    await parts.takeDisk(chunk.length);
    if (parts.claim.takenOver) throw new LabError('LAB_ERR_BUSY', 'another connection took this upload over (it resumed the same content)');
    this.#received += chunk.length;
    parts.grew(chunk.length);
    parts.hash.update(chunk);
    try {
      await writeChunk(parts.out, chunk);
    } catch (error) {
      throw storageError(error, 'cannot write the upload');
    }
    this.#unflushed += chunk.length;
    if (this.#unflushed >= WRITEBACK_EVERY_BYTES && !this.#flushing) {
      this.#unflushed = 0;
      this.#flushing = parts.datasync().then(
        () => {
          this.#flushing = null;
        },
        (error: unknown) => {
          this.#flushError ??= error;
          this.#flushing = null;
        },
      );
    }
  }

  /**
   * Verifies size and hash, then makes the file visible atomically. On a hash mismatch the partial is
   * removed; for want of space, what this connection wrote is; after another storage error it is kept.
   */
  async commit(): Promise<StoredFile> {
    const { hash, partialPath, finalPath, dir } = this.#parts;
    let settle: 'keep' | 'rollback' | 'remove' | null = 'keep';
    try {
      await this.#finish();
      if (this.#flushError) throw storageError(this.#flushError, 'the disk failed to write the upload');
      const total = this.request.offset + this.#received;
      const sha256 = hash.digest('hex');
      if (total !== this.request.size || sha256 !== this.request.sha256) {
        settle = 'remove';
        throw new LabError(
          'LAB_ERR_HASH_MISMATCH',
          `received ${total} bytes with SHA-256 ${sha256}, expected ${this.request.size} bytes with ${this.request.sha256}`,
        );
      }
      // Identity taken from the partial itself before the rename (which keeps inode and mtime): a
      // stat of the final name afterwards could see another upload's file renamed there meanwhile.
      const identity = await syncAndStat(partialPath);
      await rename(partialPath, finalPath);
      settle = null;
      this.#parts.committed({ name: this.request.name, ino: identity.ino, size: identity.size, mtimeMs: identity.mtimeMs, sha256 });
      await syncAndStat(dir);
      return { name: this.request.name, size: total, sha256 };
    } catch (error) {
      const labError = storageError(error);
      if (settle === 'keep' && isSpaceError(labError)) settle = 'rollback';
      throw labError;
    } finally {
      if (settle) await this.#parts.settle(settle).catch(() => {});
      this.#parts.release();
    }
  }

  /**
   * The connection ended before the body did. What arrived is kept, synced, for resuming (the client
   * vanished, the server is stopping, another connection took over), unless the upload was stopped for
   * want of space, or the disk refused its last bytes: then what this connection wrote is dropped, so
   * that the space is free again for everyone. Idempotent.
   */
  async interrupt(reason: LabError | null): Promise<void> {
    if (this.#finished) return;
    let closing: LabError | null = null;
    try {
      await this.#finish();
    } catch (error) {
      closing = storageError(error); // a write the disk refused only now (ENOSPC at close)
    }
    try {
      await this.#parts.settle(isSpaceError(reason) || isSpaceError(closing) ? 'rollback' : 'keep');
    } finally {
      this.#parts.release();
    }
  }

  async #finish(): Promise<void> {
    if (this.#finished) return;
    this.#finished = true;
    const { out } = this.#parts;
    // The descriptor stays open until a background fdatasync on it has returned.
    await this.#flushing;
    out.end();
    if (!out.closed) await once(out, 'close').catch((error: unknown) => Promise.reject(storageError(error)));
    if (out.errored) throw storageError(out.errored);
  }
}

/** A file system error as the lab's code: no space (ENOSPC, EDQUOT) is LAB_ERR_DISK_FULL, the rest LAB_ERR_STORAGE. */
function storageError(error: unknown, context?: string): LabError {
  if (error instanceof LabError) return error;
  const message = context ? `${context}: ${(error as Error).message}` : (error as Error).message;
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ENOSPC' || code === 'EDQUOT') return new LabError('LAB_ERR_DISK_FULL', message, { cause: error });
  return new LabError('LAB_ERR_STORAGE', message, { cause: error });
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
