/**
 * What the data directory holds, kept in memory so that starting an upload, checking the quota, and
 * finding a name's partials cost the same with ten files as with ten thousand (no directory scan per
 * request). Pure: it never touches the disk; `FileStore` reads the directory once at start and then
 * tells the ledger every change it makes (the server is the directory's only writer).
 *
 * It also decides what happens to partial uploads (files of interrupted uploads, kept so that the upload
 * can be resumed): they expire, and their number and bytes are capped in total and per client address,
 * so that nobody can fill the disk with uploads they never finish.
 */

export interface PartialLimits {
  /** A kept partial not written for this long is removed. */
  ttlMs: number;
  /** Kept partials in total, and their bytes. */
  maxCount: number;
  maxBytes: number;
  /** Kept partials of one client address, and their bytes. */
  maxCountPerAddress: number;
  maxBytesPerAddress: number;
}

export interface PartialEntry {
  /** The partial's file name in the data directory (".NAME.SHA256.part"). */
  readonly file: string;
  readonly name: string;
  readonly sha256: string;
  size: number;
  /** The client address that last wrote it; null for partials found on disk at start. */
  owner: string | null;
  /** When it was last written (ms since the epoch): expiry and eviction go oldest first. */
  touchedMs: number;
  /** An upload is writing it right now: it is never expired, evicted or deleted meanwhile. */
  active: boolean;
}

/** What to do with a partial whose upload has just been interrupted. */
export interface KeepPlan {
  /** Other kept partials to remove first (oldest first), to stay within the caps. */
  evict: PartialEntry[];
  /** Keep this many bytes of it (its size, or less when it alone is above a bytes cap); 0 removes it. */
  keepBytes: number;
}

export class StorageLedger {
  readonly #stored = new Map<string, number>();
  readonly #partials = new Map<string, PartialEntry>();
  readonly #byName = new Map<string, Set<PartialEntry>>();
  #storedBytes = 0;
  #partialBytes = 0;

  /** Bytes counted against the quota: stored files plus every partial, kept or being written. */
  get usedBytes(): number {
    return this.#storedBytes + this.#partialBytes;
  }

  get partialCount(): number {
    return this.#partials.size;
  }

  setStored(name: string, size: number): void {
    this.#storedBytes += size - (this.#stored.get(name) ?? 0);
    this.#stored.set(name, size);
  }

  removeStored(name: string): void {
    this.#storedBytes -= this.#stored.get(name) ?? 0;
    this.#stored.delete(name);
  }

  partial(file: string): PartialEntry | undefined {
    return this.#partials.get(file);
  }

  /** The partials of one name, kept or being written. */
  partialsOf(name: string): PartialEntry[] {
    return [...(this.#byName.get(name) ?? [])];
  }

  /** Records a partial (found at start, or created by an upload); replaces an entry of the same file. */
  addPartial(entry: PartialEntry): PartialEntry {
    const previous = this.#partials.get(entry.file);
    if (previous) this.removePartial(previous);
    this.#partials.set(entry.file, entry);
    let set = this.#byName.get(entry.name);
    if (!set) this.#byName.set(entry.name, (set = new Set()));
    set.add(entry);
    this.#partialBytes += entry.size;
    return entry;
  }

  resizePartial(entry: PartialEntry, size: number, nowMs?: number): void {
    this.#partialBytes += size - entry.size;
    entry.size = size;
    if (nowMs !== undefined) entry.touchedMs = nowMs;
  }

  /** Forgets `entry`, if it is still the ledger's entry for its file (a stale one never removes a newer). */
  removePartial(entry: PartialEntry): void {
    if (this.#partials.get(entry.file) !== entry) return;
    this.#partials.delete(entry.file);
    this.#partialBytes -= entry.size;
    const set = this.#byName.get(entry.name);
    set?.delete(entry);
    if (set?.size === 0) this.#byName.delete(entry.name);
  }

  /** True while `entry` is the ledger's entry for its file. */
  holds(entry: PartialEntry): boolean {
    return this.#partials.get(entry.file) === entry;
  }

  /** Kept partials not written for `ttlMs` (never one being written). */
  expired(nowMs: number, ttlMs: number): PartialEntry[] {
    return [...this.#partials.values()].filter((p) => !p.active && nowMs - p.touchedMs >= ttlMs);
  }

  /** Kept partials to remove, oldest first, until the rest are within the totals (used at start). */
  overTotals(limits: PartialLimits): PartialEntry[] {
    const kept = [...this.#partials.values()].filter((p) => !p.active).sort((a, b) => a.touchedMs - b.touchedMs);
    let count = this.#partials.size;
    let bytes = this.#partialBytes;
    const excess: PartialEntry[] = [];
    for (const entry of kept) {
      if (count <= limits.maxCount && bytes <= limits.maxBytes) break;
      excess.push(entry);
      count--;
      bytes -= entry.size;
    }
    return excess;
  }

  /**
   * Decides how `entry`, just interrupted, is kept: within its address's share and within the totals.
   * Only the same address's own oldest partials make room: an upload never removes anyone else's, so
   * a flood of partials from one client, or of tiny ones from many, can stop further partials from being
   * kept (until they expire) but never destroys what others have sent. A partial that alone passes a
   * bytes cap is cut back to it (a shorter prefix of the same content still resumes). An empty one is
   * not kept (there is nothing to resume), and then nothing is removed for it.
   */
  planKeep(entry: PartialEntry, limits: PartialLimits): KeepPlan {
    const none: KeepPlan = { evict: [], keepBytes: 0 };
    if (entry.size === 0) return none;
    const kept = [...this.#partials.values()].filter((p) => p !== entry && !p.active);
    const mine = kept.filter((p) => p.owner === entry.owner).sort((a, b) => a.touchedMs - b.touchedMs);
    let total = { count: kept.length, bytes: kept.reduce((sum, p) => sum + p.size, 0) };
    let own = { count: mine.length, bytes: mine.reduce((sum, p) => sum + p.size, 0) };
    const fits = () =>
      own.count + 1 <= limits.maxCountPerAddress &&
      own.bytes + entry.size <= limits.maxBytesPerAddress &&
      total.count + 1 <= limits.maxCount &&
      total.bytes + entry.size <= limits.maxBytes;
    const evict: PartialEntry[] = [];
    for (const oldest of mine) {
      if (fits()) break;
      evict.push(oldest);
      own = { count: own.count - 1, bytes: own.bytes - oldest.size };
      total = { count: total.count - 1, bytes: total.bytes - oldest.size };
    }
    if (own.count + 1 > limits.maxCountPerAddress || total.count + 1 > limits.maxCount) return none;
    const keepBytes = Math.min(entry.size, limits.maxBytesPerAddress - own.bytes, limits.maxBytes - total.bytes);
    return keepBytes > 0 ? { evict, keepBytes } : none;
  }
}
