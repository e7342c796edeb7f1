import type { StreamPacing } from '@lab/results';

/**
 * How evenly a stream left, from a packet capture's timestamps (the kernel's, not the sender's): the gaps
 * between one data datagram and the next against the nominal gap (1/rate). A sender that wakes late and
 * then catches up shows short gaps (datagrams out close together), which netem's jitter can reorder.
 */
export type SendGaps = Omit<StreamPacing, 'mode'>;

/** The gaps between consecutive departures (capture times in seconds, in the order captured). */
export function sendGaps(times: readonly number[], rate: number): SendGaps | null {
  if (times.length < 2) return null;
  // Stamps taken on different CPUs can be a hair out of order: such a gap counts as none.
  const gaps = Float64Array.from(times.slice(1), (time, i) => Math.max(0, (time - times[i]!) * 1000)).sort();
  const at = (q: number) => round(gaps[Math.min(gaps.length - 1, Math.floor(q * gaps.length))]!);
  const nominalMs = 1000 / rate;
  return { datagrams: times.length, nominalMs: round(nominalMs), p1: at(0.01), p50: at(0.5), p99: at(0.99), bursts: gaps.filter((gap) => gap < nominalMs / 2).length };
}

const round = (ms: number) => Math.round(ms * 1000) / 1000;
