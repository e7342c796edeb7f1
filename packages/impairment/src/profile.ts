import { LabError } from '@lab/protocol';

/**
 * An impairment profile, in the words of tc-netem(8), which is what people who know netem will type:
 *
 *   loss [random] PERCENT [CORRELATION]        loss gemodel P [R [1-H [1-K]]]      (Gilbert-Elliott)
 *   delay TIME [JITTER [CORRELATION]] [distribution uniform|normal|pareto|paretonormal]
 *   duplicate PERCENT [CORRELATION]   corrupt PERCENT [CORRELATION]   reorder PERCENT [CORRELATION]
 *   rate RATE                                   (e.g. 10mbit, 500kbit, 1gbit, 2mbps)
 *
 * Percentages are "10%" or "10"; times "100ms", "1s", "500us". "none" or "" is no impairment.
 */
export interface ImpairmentProfile {
  loss?: { kind: 'random'; percent: number; correlation?: number } | { kind: 'gemodel'; p: number; r?: number; oneMinusH?: number; oneMinusK?: number };
  delay?: { ms: number; jitterMs?: number; correlation?: number; distribution?: Distribution };
  duplicate?: { percent: number; correlation?: number };
  corrupt?: { percent: number; correlation?: number };
  reorder?: { percent: number; correlation?: number };
  /** Bits per second. */
  rate?: { bitsPerSecond: number };
}

export const distributions = ['uniform', 'normal', 'pareto', 'paretonormal'] as const;
export type Distribution = (typeof distributions)[number];

const bad = (message: string) => new LabError('LAB_ERR_BAD_PROFILE', message);

function percent(token: string | undefined, what: string): number {
  const match = /^(\d+(?:\.\d+)?)%?$/.exec(token ?? '');
  const value = Number(match?.[1]);
  if (!match || value > 100) throw bad(`${what}: expected a percentage from 0 to 100, got ${JSON.stringify(token ?? '')}`);
  return value;
}

function milliseconds(token: string | undefined, what: string): number {
  const match = /^(\d+(?:\.\d+)?)(us|ms|s)$/.exec(token ?? '');
  if (!match) throw bad(`${what}: expected a time like 20ms, 1s or 500us, got ${JSON.stringify(token ?? '')}`);
  const scale = { us: 0.001, ms: 1, s: 1000 }[match[2] as 'us' | 'ms' | 's'];
  return Number(match[1]) * scale;
}

function bitsPerSecond(token: string | undefined): number {
  // tc(8) units: bit/kbit/mbit/gbit are bits, bps/kbps/mbps/gbps are bytes, per second.
  const match = /^(\d+(?:\.\d+)?)(bit|kbit|mbit|gbit|bps|kbps|mbps|gbps)$/.exec(token?.toLowerCase() ?? '');
  if (!match) throw bad(`rate: expected a rate like 10mbit or 500kbit, got ${JSON.stringify(token ?? '')}`);
  const scale = { bit: 1, kbit: 1e3, mbit: 1e6, gbit: 1e9, bps: 8, kbps: 8e3, mbps: 8e6, gbps: 8e9 }[match[2] as 'bit'];
  const value = Number(match[1]) * scale;
  if (value <= 0) throw bad('rate: must be above zero');
  return value;
}

const isNumberToken = (token: string | undefined) => token !== undefined && /^\d/.test(token);

/** Parses a profile; throws LAB_ERR_BAD_PROFILE with what was wrong and where. */
export function parseProfile(text: string): ImpairmentProfile {
  return checkProfile(parseProfileWords(text));
}

/**
 * Parses the words of a profile without the rules that tie one word to another (reorder needs a delay):
 * a swept value ("reorder 25%") is a part of a profile, checked once it is merged with the rest.
 */
export function parseProfileWords(text: string): ImpairmentProfile {
  const tokens = text.trim().split(/\s+/).filter(Boolean);
  if (tokens.length === 0 || (tokens.length === 1 && tokens[0] === 'none')) return {};
  const profile: ImpairmentProfile = {};
  let i = 0;
  const next = () => tokens[i++];
  const optional = <T>(read: (token: string) => T): T | undefined => (isNumberToken(tokens[i]) ? read(next()!) : undefined);
  while (i < tokens.length) {
    const word = next()!;
    if (word in profile || (word === 'loss' && profile.loss)) throw bad(`${word} is given twice`);
    switch (word) {
      case 'loss': {
        if (tokens[i] === 'gemodel') {
          next();
          const p = percent(next(), 'loss gemodel p');
          const r = optional((t) => percent(t, 'loss gemodel r'));
          const oneMinusH = optional((t) => percent(t, 'loss gemodel 1-h'));
          const oneMinusK = optional((t) => percent(t, 'loss gemodel 1-k'));
          profile.loss = { kind: 'gemodel', p, ...(r !== undefined && { r }), ...(oneMinusH !== undefined && { oneMinusH }), ...(oneMinusK !== undefined && { oneMinusK }) };
        } else {
          if (tokens[i] === 'random') next();
          const value = percent(next(), 'loss');
          const correlation = optional((t) => percent(t, 'loss correlation'));
          profile.loss = { kind: 'random', percent: value, ...(correlation !== undefined && { correlation }) };
        }
        break;
      }
      case 'delay': {
        const ms = milliseconds(next(), 'delay');
        const jitterMs = /^\d/.test(tokens[i] ?? '') && /[a-z]$/.test(tokens[i] ?? '') ? milliseconds(next(), 'delay jitter') : undefined;
        const correlation = jitterMs !== undefined ? optional((t) => percent(t, 'delay correlation')) : undefined;
        let distribution: Distribution | undefined;
        if (tokens[i] === 'distribution') {
          next();
          const name = next();
          if (!distributions.includes(name as Distribution)) throw bad(`distribution: expected one of ${distributions.join(', ')}, got ${JSON.stringify(name ?? '')}`);
          if (jitterMs === undefined) throw bad('distribution needs a jitter (delay TIME JITTER distribution …)');
          distribution = name as Distribution;
        }
        profile.delay = { ms, ...(jitterMs !== undefined && { jitterMs }), ...(correlation !== undefined && { correlation }), ...(distribution && { distribution }) };
        break;
      }
      case 'duplicate':
      case 'corrupt':
      case 'reorder': {
        const value = percent(next(), word);
        const correlation = optional((t) => percent(t, `${word} correlation`));
        profile[word] = { percent: value, ...(correlation !== undefined && { correlation }) };
        break;
      }
      case 'rate':
        profile.rate = { bitsPerSecond: bitsPerSecond(next()) };
        break;
      default:
        throw bad(`unknown word ${JSON.stringify(word)}: expected loss, delay, duplicate, corrupt, reorder or rate`);
    }
  }
  return profile;
}

/** The rules between words; returns the profile. */
export function checkProfile(profile: ImpairmentProfile): ImpairmentProfile {
  // tc-netem(8): reordering works by sending some packets at once while the others wait their delay;
  // tc refuses a reorder probability without a delay (q_netem.c: "reordering not possible without
  // specifying some delay").
  if (profile.reorder && profile.reorder.percent > 0 && !(profile.delay && profile.delay.ms > 0)) {
    throw bad('reorder needs a delay (netem reorders by sending some packets at once while the others wait their delay)');
  }
  return profile;
}

const pct = (value: number) => `${value}%`;
const time = (ms: number) => (ms >= 1 || ms === 0 ? `${ms}ms` : `${Math.round(ms * 1000)}us`);

/** The netem arguments of a profile (after `netem`), in tc-netem(8)'s order and syntax. */
export function netemArguments(profile: ImpairmentProfile): string[] {
  const args: string[] = [];
  const { loss, delay, duplicate, corrupt, reorder, rate } = profile;
  if (delay) {
    args.push('delay', time(delay.ms));
    if (delay.jitterMs !== undefined) args.push(time(delay.jitterMs));
    if (delay.correlation !== undefined) args.push(pct(delay.correlation));
    if (delay.distribution) args.push('distribution', delay.distribution);
  }
  if (loss?.kind === 'random') {
    args.push('loss', 'random', pct(loss.percent));
    if (loss.correlation !== undefined) args.push(pct(loss.correlation));
  } else if (loss?.kind === 'gemodel') {
    args.push('loss', 'gemodel', pct(loss.p));
    for (const value of [loss.r, loss.oneMinusH, loss.oneMinusK]) if (value !== undefined) args.push(pct(value));
  }
  for (const [name, option] of [['duplicate', duplicate], ['corrupt', corrupt], ['reorder', reorder]] as const) {
    if (!option) continue;
    args.push(name, pct(option.percent));
    if (option.correlation !== undefined) args.push(pct(option.correlation));
  }
  if (rate) args.push('rate', formatRate(rate.bitsPerSecond));
  return args;
}

/**
 * A rate in tc(8)'s units, the largest that states it exactly (10mbit, 1500kbit, 64bit): tc's kbit,
 * mbit and gbit are powers of 1000, as here.
 */
export function formatRate(bitsPerSecond: number): string {
  for (const [unit, scale] of [['gbit', 1e9], ['mbit', 1e6], ['kbit', 1e3]] as const) {
    const value = bitsPerSecond / scale;
    if (value >= 1 && Math.abs(value * 1000 - Math.round(value * 1000)) < 1e-6) return `${Number(value.toFixed(3))}${unit}`;
  }
  return `${bitsPerSecond}bit`;
}

/** The profile as one line, in the same syntax it is parsed from (canonical: parse(format(p)) = p). */
export function formatProfile(profile: ImpairmentProfile): string {
  const args = netemArguments(profile);
  return args.length === 0 ? 'none' : args.join(' ');
}

/**
 * The profile as the kernel holds it once tc has passed it on, which is what netem will do: a word at
 * zero does nothing (and tc does not print it back), a correlation of 0% is none, and a duplicate's
 * correlation is dropped unless another correlation is given too (iproute2 6.1 q_netem.c marks
 * TCA_NETEM_CORR present for the delay, loss, reorder and corrupt correlations, never for duplicate's).
 */
export function effectiveProfile(profile: ImpairmentProfile): ImpairmentProfile {
  const { loss, delay, duplicate, corrupt, reorder, rate } = profile;
  const withCorrelation = <T extends { correlation?: number }>(value: T): T => {
    const { correlation, ...rest } = value;
    return (correlation ?? 0) > 0 ? value : (rest as T);
  };
  const correlationSent = [delay?.jitterMs ? delay.correlation : undefined, loss?.kind === 'random' ? loss.correlation : undefined, reorder?.correlation, corrupt?.correlation].some((c) => c !== undefined);
  const effective: ImpairmentProfile = {};
  if (loss?.kind === 'gemodel' || (loss?.kind === 'random' && loss.percent > 0)) effective.loss = loss.kind === 'random' ? withCorrelation(loss) : loss;
  if (delay && (delay.ms > 0 || (delay.jitterMs ?? 0) > 0)) {
    const { correlation, ...rest } = delay;
    effective.delay = (delay.jitterMs ?? 0) > 0 && (correlation ?? 0) > 0 ? delay : rest;
  }
  if (duplicate && duplicate.percent > 0) effective.duplicate = correlationSent ? withCorrelation(duplicate) : { percent: duplicate.percent };
  if (corrupt && corrupt.percent > 0) effective.corrupt = withCorrelation(corrupt);
  if (reorder && reorder.percent > 0) effective.reorder = withCorrelation(reorder);
  if (rate) effective.rate = rate;
  return effective;
}
