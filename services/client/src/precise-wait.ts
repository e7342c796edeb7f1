import { setImmediate as yieldToIo } from 'node:timers/promises';

/**
 * Waits until `dueMs` (performance.now() time) to within the kernel's timer precision, blocking this
 * thread: first it lets the event loop run once, so that what was sent so far leaves and its callbacks
 * run, then it sleeps in Atomics.wait (a futex(2) wait with a timeout in nanoseconds), in slices of at
 * most SLICE_MS with the event loop served between them (timers such as keepalives, and I/O).
 *
 * Why not a timer: Node's setTimeout counts whole milliseconds (a wait of 4.9 ms is one of 4) and
 * fires on the event loop's cached clock, so a paced sender woke up to a millisecond or two late, then
 * sent the next datagram on time: gaps between sends of 3 to 7 ms at 200/s, where two datagrams left
 * closer than netem's jitter could keep apart, and were reordered by it. Measured in the user-mode Linux
 * lab from the capture (docs/accuracy.md).
 *
 * Because it blocks, it is only for a thread that does nothing but send: a sender in a worker thread
 * of its own (PacedSender), or a process that only sends (`client stream`). A receiver on the same
 * thread would stamp its arrivals late by as long as the wait.
 */
export async function waitPrecisely(dueMs: number): Promise<void> {
  await yieldToIo();
  for (;;) {
    const remaining = dueMs - performance.now();
    if (remaining <= 0) return;
    Atomics.wait(sleeper, 0, 0, Math.min(remaining, SLICE_MS));
    if (remaining > SLICE_MS) await yieldToIo();
  }
}

/** Longest single block: the event loop is served at least this often while a sender waits. */
const SLICE_MS = 20;

/** A cell nobody ever changes: Atomics.wait on it returns only at its timeout. */
const sleeper = new Int32Array(new SharedArrayBuffer(4));
