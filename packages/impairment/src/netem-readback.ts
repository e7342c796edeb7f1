import { z } from 'zod';
import { LabError } from '@lab/protocol';
import { effectiveProfile, formatProfile, type ImpairmentProfile } from './profile.ts';

/**
 * What the kernel says a device's netem holds, read from `tc -j qdisc show dev DEV` (iproute2's JSON
 * output of netem_print_opt: times in seconds, percentages as fractions, the rate in bytes per second),
 * and how it differs from what was asked. The lab applies a profile, reads it back and stops when the
 * two differ: a report must describe what the kernel did, not what the lab meant.
 */
const fraction = z.number().min(0).max(1);
const correlated = fraction.optional();

const netemOptions = z.object({
  limit: z.number().int().nonnegative(),
  delay: z.object({ delay: z.number().nonnegative(), jitter: z.number().nonnegative(), correlation: fraction.optional() }).optional(),
  'loss-random': z.object({ loss: fraction, correlation: correlated }).optional(),
  'loss-gemodel': z.object({ p: fraction, r: fraction, '1-h': fraction, '1-k': fraction }).optional(),
  'loss-state': z.unknown().optional(),
  duplicate: z.object({ duplicate: fraction, correlation: correlated }).optional(),
  reorder: z.object({ reorder: fraction, correlation: correlated }).optional(),
  corrupt: z.object({ corrupt: fraction, correlation: correlated }).optional(),
  rate: z.object({ rate: z.number().nonnegative() }).optional(),
});

const qdiscList = z.array(z.object({ kind: z.string(), handle: z.string(), root: z.boolean().optional(), options: z.unknown().optional() }));

/** What is read back from one device: its root netem as a profile, or null when its root is not netem. */
export type InstalledNetem = ImpairmentProfile | null;

const percent = (value: number) => Number((value * 100).toFixed(6));
const ms = (seconds: number) => Number((seconds * 1000).toFixed(6));
const correlation = (value: number | undefined) => (value !== undefined && value > 0 ? { correlation: percent(value) } : {});

/** Parses `tc -j qdisc show dev DEV`; throws LAB_ERR_IMPAIRMENT_MISMATCH when tc's answer is not what it should be. */
export function parseInstalledNetem(json: string): InstalledNetem {
  let raw: unknown;
  try {
    raw = JSON.parse(json.trim() === '' ? '[]' : json);
  } catch {
    throw new LabError('LAB_ERR_IMPAIRMENT_MISMATCH', `tc -j qdisc show did not answer JSON: ${json.slice(0, 200)}`);
  }
  const list = qdiscList.safeParse(raw);
  if (!list.success) throw new LabError('LAB_ERR_IMPAIRMENT_MISMATCH', `tc -j qdisc show answered an unexpected shape: ${json.slice(0, 200)}`);
  const root = list.data.find((qdisc) => qdisc.kind === 'netem' && qdisc.root === true);
  if (!root) return null;
  const parsed = netemOptions.safeParse(root.options);
  if (!parsed.success) throw new LabError('LAB_ERR_IMPAIRMENT_MISMATCH', `netem's options are not what tc prints for them: ${JSON.stringify(root.options).slice(0, 300)}`);
  const o = parsed.data;
  if (o['loss-state'] !== undefined) throw new LabError('LAB_ERR_IMPAIRMENT_MISMATCH', 'the device holds a 4-state loss model, which the lab never installs');
  const profile: ImpairmentProfile = {};
  if (o.delay) profile.delay = { ms: ms(o.delay.delay), ...(o.delay.jitter > 0 && { jitterMs: ms(o.delay.jitter) }), ...correlation(o.delay.correlation) };
  const random = o['loss-random'];
  if (random) profile.loss = { kind: 'random', percent: percent(random.loss), ...correlation(random.correlation) };
  const gemodel = o['loss-gemodel'];
  if (gemodel) profile.loss = { kind: 'gemodel', p: percent(gemodel.p), r: percent(gemodel.r), oneMinusH: percent(gemodel['1-h']), oneMinusK: percent(gemodel['1-k']) };
  if (o.duplicate) profile.duplicate = { percent: percent(o.duplicate.duplicate), ...correlation(o.duplicate.correlation) };
  if (o.reorder) profile.reorder = { percent: percent(o.reorder.reorder), ...correlation(o.reorder.correlation) };
  if (o.corrupt) profile.corrupt = { percent: percent(o.corrupt.corrupt), ...correlation(o.corrupt.correlation) };
  if (o.rate && o.rate.rate > 0) profile.rate = { bitsPerSecond: o.rate.rate * 8 };
  return profile;
}

const close = (a: number, b: number, tolerance: number) => Math.abs(a - b) <= tolerance;

/**
 * How the installed profile differs from the wanted one, word by word (empty: the same). Tolerances are
 * tc's own roundings: times go to the kernel in psched ticks of 64 ns and come back to the microsecond;
 * percentages are scaled to 32 bits; a rate is sent in whole bytes per second. A distribution table is
 * not printed back, so it cannot be compared.
 */
export function profileDifferences(wanted: ImpairmentProfile, installed: InstalledNetem): string[] {
  const want = { ...effectiveProfile(wanted) };
  const have = installed ?? {};
  const differences: string[] = [];
  const words = ['loss', 'delay', 'duplicate', 'corrupt', 'reorder', 'rate'] as const;
  // tc 6.1 prints a delay only where its base is not zero (netem_print_opt: `if (qopt.latency)`): a
  // jitter around no delay is there, but cannot be read back.
  if (want.delay && want.delay.ms === 0 && !have.delay) delete want.delay;
  for (const word of words) {
    const a = want[word];
    const b = have[word];
    const say = () => differences.push(`${word}: asked ${a ? formatProfile({ [word]: a }) : 'none'}, the kernel has ${b ? formatProfile({ [word]: b }) : 'none'}`);
    if (!a || !b) {
      if (a || b) say();
      continue;
    }
    const pct = (x?: number, y?: number) => close(x ?? 0, y ?? 0, 1e-4);
    const time = (x?: number, y?: number) => close(x ?? 0, y ?? 0, 0.002 + 0.001 * Math.abs(x ?? 0));
    let same: boolean;
    if (word === 'loss') {
      const [x, y] = [a as NonNullable<ImpairmentProfile['loss']>, b as NonNullable<ImpairmentProfile['loss']>];
      if (x.kind === 'random' && y.kind === 'random') same = pct(x.percent, y.percent) && pct(x.correlation, y.correlation);
      else if (x.kind === 'gemodel' && y.kind === 'gemodel') same = pct(x.p, y.p) && pct(x.r ?? 100 - x.p, y.r) && pct(x.oneMinusH ?? 100, y.oneMinusH) && pct(x.oneMinusK ?? 0, y.oneMinusK);
      else same = false;
    } else if (word === 'delay') {
      const [x, y] = [a as NonNullable<ImpairmentProfile['delay']>, b as NonNullable<ImpairmentProfile['delay']>];
      same = time(x.ms, y.ms) && time(x.jitterMs, y.jitterMs) && pct(x.correlation, y.correlation);
    } else if (word === 'rate') {
      same = close((a as { bitsPerSecond: number }).bitsPerSecond, (b as { bitsPerSecond: number }).bitsPerSecond, 8);
    } else {
      const [x, y] = [a as { percent: number; correlation?: number }, b as { percent: number; correlation?: number }];
      same = pct(x.percent, y.percent) && pct(x.correlation, y.correlation);
    }
    if (!same) say();
  }
  return differences;
}
