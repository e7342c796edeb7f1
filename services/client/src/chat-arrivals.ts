import type { ChatArrival } from '@lab/results';
import { ChatSequencer } from './chat-sequencer.ts';

/** Arrivals a listener keeps at most: a peer that floods the room cannot grow the report without bound. */
const MAX_ARRIVALS = 10_000;

/**
 * What one listener of the chat contrast got: each of lines 1…`lines` as it came, judged by its number
 * alone as the UDP chat judges it (in order, out of order, a copy), and the lines that never came.
 */
export class ChatArrivals {
  readonly #sequencer = new ChatSequencer();
  readonly #seen = new Set<number>();
  readonly list: ChatArrival[] = [];
  readonly lines: number;

  constructor(lines: number) {
    this.lines = lines;
  }

  /** Records line `line` arriving `ms` after the first was sent; null for a number outside the lines sent. */
  record(line: number, ms: number): ChatArrival | null {
    if (!Number.isInteger(line) || line < 1 || line > this.lines || this.list.length >= MAX_ARRIVALS) return null;
    const verdict = this.#sequencer.accept(0, BigInt(line));
    const arrival: ChatArrival = { line, ms: Math.max(0, ms), kind: verdict.kind === 'duplicate' ? 'duplicate' : verdict.kind === 'reordered' ? 'reordered' : 'in-order' };
    this.#seen.add(line);
    this.list.push(arrival);
    return arrival;
  }

  get complete(): boolean {
    return this.#seen.size === this.lines;
  }

  missing(): number[] {
    return Array.from({ length: this.lines }, (_, i) => i + 1).filter((line) => !this.#seen.has(line));
  }
}
