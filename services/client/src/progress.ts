/**
 * Transfer progress for people: a bar with rate and ETA redrawn in place on a terminal, or a plain line
 * every few seconds otherwise (a log file or a CI console would fill up with carriage returns).
 */
export interface ProgressOptions {
  label: string;
  total: number;
  /** Where the transfer starts (a resumed one starts past 0); the rate counts only new bytes. */
  start: number;
  stream: NodeJS.WriteStream | { write(text: string): unknown; isTTY?: boolean; columns?: number };
  mode: 'auto' | 'bar' | 'lines' | 'none';
}

const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];

export function formatBytes(bytes: number): string {
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(unit === 0 || value >= 100 ? 0 : 1)} ${units[unit]}`;
}

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '--';
  const s = Math.max(0, Math.round(seconds));
  return s >= 3600 ? `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m` : s >= 60 ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s` : `${s}s`;
}

export class Progress {
  readonly #options: ProgressOptions;
  readonly #bar: boolean;
  readonly #started = performance.now();
  #lastDraw = 0;
  #position: number;
  #done = false;

  constructor(options: ProgressOptions) {
    this.#options = options;
    this.#position = options.start;
    this.#bar = options.mode === 'bar' || (options.mode === 'auto' && options.stream.isTTY === true);
    if (options.mode !== 'none' && options.start > 0) this.#line(`${options.label}: resuming at ${formatBytes(options.start)} of ${formatBytes(options.total)}`);
  }

  update(position: number): void {
    this.#position = position;
    const now = performance.now();
    if (now - this.#lastDraw < (this.#bar ? 100 : 2000)) return;
    this.#lastDraw = now;
    this.#draw();
  }

  finish(position = this.#position): void {
    if (this.#done) return;
    this.#done = true;
    this.#position = position;
    this.#draw();
    if (this.#bar) this.#options.stream.write('\n');
  }

  /** The text of one progress report. */
  render(): string {
    const { total, start, label } = this.#options;
    const elapsed = (performance.now() - this.#started) / 1000;
    const rate = elapsed > 0 ? (this.#position - start) / elapsed : 0;
    const fraction = total > 0 ? this.#position / total : 1;
    const eta = rate > 0 ? (total - this.#position) / rate : Infinity;
    const stats = `${(fraction * 100).toFixed(0).padStart(3)}% ${formatBytes(this.#position)}/${formatBytes(total)} ${formatBytes(rate)}/s ETA ${formatDuration(eta)}`;
    if (!this.#bar) return `${label}: ${stats}`;
    const width = Math.max(10, Math.min(40, (this.#options.stream.columns ?? 80) - stats.length - label.length - 6));
    const filled = Math.round(fraction * width);
    return `${label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${stats}`;
  }

  #draw(): void {
    if (this.#options.mode === 'none') return;
    if (this.#bar) this.#options.stream.write(`\r${this.render()}\u001b[K`);
    else this.#line(this.render());
  }

  #line(text: string): void {
    this.#options.stream.write(`${text}\n`);
  }
}
