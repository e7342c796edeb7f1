import type { ExpectedFigure, Verdict } from '@lab/results';

/**
 * Whose a measured figure is, and whether it lies where the network puts it (pure: numbers in, a verdict
 * out). Every figure the lab measures is the network's part and the lab's own part together: its
 * sender's timing, its relay's and receivers' turns on the CPU, its sockets' buffers. The network's part
 * is netem's model of the stream the user asked for (nominal send times); the lab's own part is measured
 * apart, by the sweep's calibration: the same stream, in the same lab, with nothing impaired. Then:
 *
 *   lab:     the lab's own part is larger than the network's, so the figure is the lab's and is not
 *            shown as the network's (jitter at a step whose profile moves nothing in time: all of it; a
 *            count above what the network alone gives, that the lab's own part explains);
 *   inside:  the figure lies in the 99% band of the network's part plus the lab's own;
 *   outside: it does not: something neither explains (reported, never hidden).
 */

const NONE: ExpectedFigure = { mean: 0, band95: [0, 0], band99: [0, 0] };

/**
 * A count (lost, duplicated, reordered, late) the network's model expects, with the lab's own count (from
 * the calibration) added on top: the band's upper end moves up by it, its lower end stays (this run may
 * not repeat what the calibration saw).
 */
export function withOwnCount(network: ExpectedFigure | null, own: number | null): ExpectedFigure {
  const base = network ?? NONE;
  const extra = own ?? 0;
  const up = ([low, high]: [number, number]): [number, number] => [low, high + extra];
  return { mean: base.mean + extra, band95: up(base.band95), band99: up(base.band99) };
}

/** The lab's own jitter, as its calibration measured it: most of the time (the median), and how high it went. */
export interface OwnJitter {
  typical: number;
  high: number;
}

/**
 * RFC 3550's jitter (a mean of |D|, the change in transit between arrivals) of the network's delays and
 * the lab's own together. With the two independent and the lab's symmetric, E|D_net + D_lab| lies between
 * the larger of the two and their sum (Jensen's inequality for the lower end, the triangle inequality for
 * the upper): the band's upper end moves up by how high the lab's own went, its mean is taken as the root
 * of the sum of squares of the two typical values (both normal).
 */
export function withOwnJitter(network: ExpectedFigure | null, own: OwnJitter | null): ExpectedFigure {
  const base = network ?? NONE;
  const up = ([low, high]: [number, number]): [number, number] => [low, high + (own?.high ?? 0)];
  return { mean: Math.hypot(base.mean, own?.typical ?? 0), band95: up(base.band95), band99: up(base.band99) };
}

/**
 * The verdict of a measured figure. `network`: what netem's model expects (null: the profile cannot make
 * this figure at all, and it expects exactly none); `own`: the lab's own part, measured by the calibration
 * (null: not measured). With nothing of the network's to show, any of it is the lab's.
 *
 * Jitter is noise the lab adds to every reading: where the lab's own (most of the time: `own` is its
 * median) is larger than netem's, no reading is the network's. A count is events: what lies in the network's own band is the network's even where the
 * lab could have added more (a sender's bursts that netem happened not to reorder); what lies above it,
 * within the lab's own part, is the lab's.
 */
export function verdictOf(measured: number, network: ExpectedFigure | null, own: number | null, combined: ExpectedFigure, kind: 'count' | 'jitter' = 'count'): Verdict {
  const within = ([low, high]: [number, number]) => measured >= low && measured <= high;
  if (network === null) return measured > 0 ? 'lab' : 'inside';
  const ownPart = own ?? 0;
  if (kind === 'jitter') {
    if (ownPart > 0 && ownPart > network.mean) return 'lab';
  } else if (!within(network.band99) && ownPart > 0 && ownPart > network.mean && within(combined.band99)) return 'lab';
  return within(combined.band99) ? 'inside' : 'outside';
}

/**
 * TCP's goodput under a `rate`: the rate lets through at most `limit` Mbit/s of payload, and the lab
 * itself carries at most `ceiling` (its calibration's goodput, with nothing impaired). Where the ceiling is
 * below the limit, the lab's own CPU sets the pace: the lab's. Otherwise a connection that fills the
 * rate's queue reaches most of the limit: not a 99% band (TCP's slow start and the file's size decide how
 * much), but a tolerance, from RATE_TOLERANCE of the limit to just above it.
 */
export function goodputVerdict(measured: number | null, limit: number | null, ceiling: number | null): Verdict | null {
  if (measured === null || limit === null) return null;
  if (ceiling !== null && ceiling < limit) return 'lab';
  return measured >= RATE_TOLERANCE[0] * limit && measured <= RATE_TOLERANCE[1] * limit ? 'inside' : 'outside';
}

/** A TCP transfer under a rate reaches at least 60% of what the rate lets through, and never more than 2% above it (timer rounding). */
export const RATE_TOLERANCE = [0.6, 1.02] as const;
