/**
 * What a UDP chat receiver can tell from sequence numbers alone (nothing is acknowledged or resent):
 * per sender, a jump forward means messages were lost, a number seen before is a duplicate, and a
 * number below the highest seen that was not seen before was reordered (in the lab's words "late" is a
 * transit time, as in stream-stats.ts, never an order). The first message heard from a sender is the
 * baseline: a member that joins mid-conversation has lost nothing.
 */
export type ChatVerdict =
  | { kind: 'in-order' }
  | { kind: 'gap'; missing: number; from: bigint; to: bigint }
  | { kind: 'duplicate' }
  /** `wasCountedLost`: it fell in a gap reported before, so that gap is one smaller than it said. */
  | { kind: 'reordered'; highest: bigint; wasCountedLost: boolean };

interface SenderState {
  highest: bigint;
  /** Numbers seen within the window below `highest`, to tell a duplicate from a reordered one. */
  seen: Set<bigint>;
  /** Numbers reported lost within the window (a gap larger than the window is not tracked). */
  missing: Set<bigint>;
}

/** How far back duplicates are recognised; older numbers are reported as reordered. */
const WINDOW = 1024n;

export class ChatSequencer {
  readonly #senders = new Map<number, SenderState>();

  accept(sender: number, seq: bigint): ChatVerdict {
    const state = this.#senders.get(sender);
    if (!state) {
      this.#senders.set(sender, { highest: seq, seen: new Set([seq]), missing: new Set() });
      return { kind: 'in-order' };
    }
    if (state.seen.has(seq)) return { kind: 'duplicate' };
    state.seen.add(seq);
    if (seq < state.highest) return { kind: 'reordered', highest: state.highest, wasCountedLost: state.missing.delete(seq) };
    const previous = state.highest;
    state.highest = seq;
    for (const old of state.seen) if (old + WINDOW < seq) state.seen.delete(old);
    for (const old of state.missing) if (old + WINDOW < seq) state.missing.delete(old);
    if (seq === previous + 1n) return { kind: 'in-order' };
    if (seq - previous <= WINDOW) for (let n = previous + 1n; n < seq; n++) state.missing.add(n);
    return { kind: 'gap', missing: Number(seq - previous - 1n), from: previous + 1n, to: seq - 1n };
  }
}
