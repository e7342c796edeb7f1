import { checkProfile, formatProfile, parseProfileWords, type ImpairmentProfile } from '@lab/impairment';
import { LabError } from '@lab/protocol';
import { sweepDimensions, type SweepDimension } from '@lab/results';

// What a sweep varies, step by step: one tc-netem(8) word over a list of values (`--sweep "delay
// 0ms,10ms,50ms"`), on top of a profile that holds at every step (`--profile "delay 10ms"`). Pure: text
// in, the steps' profiles out.

/** The quantity on the x axis and in the table's first column, in its unit. */
export const dimensionUnits: Record<SweepDimension, { title: string; unit: string }> = {
  loss: { title: 'loss per impaired point', unit: '%' },
  delay: { title: 'delay per impaired point', unit: 'ms' },
  duplicate: { title: 'duplicated per impaired point', unit: '%' },
  corrupt: { title: 'corrupted per impaired point', unit: '%' },
  reorder: { title: 'reordered per impaired point', unit: '%' },
  rate: { title: 'rate limit', unit: 'Mbit/s' },
};

export interface PlannedStep {
  /** The swept value as given, in tc-netem words after the dimension ("10%", "20ms 5ms", "10mbit"). */
  label: string;
  /** The same as a number in the dimension's unit: the x of the chart. */
  value: number;
  /** The whole profile of the step: the fixed profile with the swept word. */
  profile: ImpairmentProfile;
  /** How the step's profile came about, when it is not just the two put together. */
  note: string | null;
}

export interface SweepPlan {
  dimension: SweepDimension;
  /** The sweep as one line: `loss 0%,1%,5%`. */
  text: string;
  /** What holds at every step besides the swept word. */
  profile: ImpairmentProfile;
  steps: PlannedStep[];
}

const bad = (message: string) => new LabError('LAB_ERR_BAD_PROFILE', message);

/** Parses `--sweep "WORD v1,v2,…"`: each value is read as `WORD v` in tc-netem(8) syntax. */
export function parseSweep(text: string): { dimension: SweepDimension; values: { label: string; profile: ImpairmentProfile }[] } {
  const match = /^\s*(\w+)\s+(.+?)\s*$/.exec(text);
  if (!match) throw bad(`--sweep: expected a word and a comma-separated list of its values, e.g. "delay 0ms,10ms,50ms", got ${JSON.stringify(text)}`);
  const dimension = match[1] as SweepDimension;
  if (!sweepDimensions.includes(dimension)) throw bad(`--sweep: ${JSON.stringify(match[1])} cannot be swept: expected one of ${sweepDimensions.join(', ')}`);
  const labels = match[2]!.split(',').map((part) => part.trim());
  if (labels.some((label) => label === '')) throw bad(`--sweep: an empty value in ${JSON.stringify(match[2])}`);
  if (labels.length > 50) throw bad(`--sweep: at most 50 steps, got ${labels.length}`);
  return {
    dimension,
    values: labels.map((label) => {
      const profile = parseProfileWords(`${dimension} ${label}`);
      // "delay 20ms loss 5%" in a delay sweep would be two words: what is fixed belongs in --profile.
      const others = Object.keys(profile).filter((word) => word !== dimension);
      if (others.length > 0) throw bad(`--sweep: the value ${JSON.stringify(label)} of a ${dimension} sweep also gives ${others.join(', ')}: a sweep varies one word; put the rest in --profile`);
      return { label, profile };
    }),
  };
}

/** The number a swept word stands for, in the dimension's unit. */
export function sweptValue(dimension: SweepDimension, profile: ImpairmentProfile): number {
  switch (dimension) {
    case 'loss': {
      const loss = profile.loss!;
      if (loss.kind === 'random') return loss.percent;
      // Gilbert-Elliott: its stationary loss (loss_gilb_ell), so that steps line up on one axis.
      const p = loss.p / 100;
      const r = (loss.r ?? 100 - loss.p) / 100;
      const lossInBad = (loss.oneMinusH ?? 100) / 100;
      const lossInGood = (loss.oneMinusK ?? 0) / 100;
      return p + r === 0 ? 100 * lossInGood : (100 * (r * lossInGood + p * lossInBad)) / (p + r);
    }
    case 'delay':
      return profile.delay!.ms;
    case 'duplicate':
      return profile.duplicate!.percent;
    case 'corrupt':
      return profile.corrupt!.percent;
    case 'reorder':
      return profile.reorder!.percent;
    case 'rate':
      return profile.rate!.bitsPerSecond / 1e6;
  }
}

/**
 * The steps: each swept value put into the fixed profile. A word both give is combined only where the
 * kernel's result is plain: two independent random losses at one point are one random loss of
 * 1 - (1 - a)(1 - b), as two netem qdiscs in a row would drop; anything else given twice is refused, so
 * that no value is ever silently replaced.
 */
export function planSweep(sweep: { dimension: SweepDimension; values: { label: string; profile: ImpairmentProfile }[] }, fixed: ImpairmentProfile): SweepPlan {
  const { dimension } = sweep;
  const steps = sweep.values.map(({ label, profile: swept }): PlannedStep => {
    let note: string | null = null;
    let word = swept[dimension];
    const given = fixed[dimension];
    if (given) {
      const a = given as ImpairmentProfile['loss'];
      const b = swept.loss;
      const plainLoss = (loss: ImpairmentProfile['loss']) => loss?.kind === 'random' && (loss.correlation ?? 0) === 0;
      if (dimension !== 'loss' || !plainLoss(a) || !plainLoss(b)) {
        throw bad(`--profile gives ${formatProfile({ [dimension]: given })} and --sweep sweeps ${dimension}: one netem qdisc holds one ${dimension}; give it in one of them`);
      }
      const percent = 100 * (1 - (1 - (a as { percent: number }).percent / 100) * (1 - (b as { percent: number }).percent / 100));
      word = { kind: 'random', percent: Number(percent.toFixed(6)) };
      note = `the profile's loss ${(a as { percent: number }).percent}% and the step's ${label}, independently: ${Number(percent.toFixed(4))}% per point`;
    }
    const profile = checkProfile({ ...fixed, [dimension]: word });
    return { label, value: sweptValue(dimension, swept), profile, note };
  });
  const text = `${dimension} ${sweep.values.map((v) => v.label).join(',')}`;
  return { dimension, text, profile: fixed, steps };
}

/** The short form: `--loss 0,1,5` is `--sweep "loss 0%,1%,5%"`. */
export function lossSweep(percents: readonly number[]): string {
  return `loss ${percents.map((p) => `${p}%`).join(',')}`;
}
