import { parseArgs } from 'node:util';
import { z } from 'zod';
import { LabError, summarizeIssues } from '@lab/protocol';
import type { Writable } from 'node:stream';
import { Logger, logLevels } from './logger.ts';

/** One configuration value, settable by a flag (`--kebab-case` of its key) or an environment variable. */
export interface OptionSpec {
  description: string;
  /** Environment variable read when the flag is absent. */
  env?: string;
  /** Raw default, parsed by `schema` like any user input, so the help text and the value agree. */
  default?: string;
  /** A switch without a value (`--json`). */
  boolean?: boolean;
  schema: z.ZodType;
}

export type OptionSpecs = Record<string, OptionSpec>;
export type OptionValues<S extends OptionSpecs> = { [K in keyof S]: z.output<S[K]['schema']> };

export type ParsedOptions<S extends OptionSpecs> =
  | { help: true }
  | { help: false; values: OptionValues<S>; positionals: string[] };

const kebab = (key: string) => key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

/**
 * Flags override environment variables, which override defaults; then every value goes through its zod
 * schema. A failure is one `LAB_ERR_CONFIG` that names the flag and its environment variable.
 */
export function parseOptions<S extends OptionSpecs>(
  specs: S,
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
  { allowPositionals = false }: { allowPositionals?: boolean } = {},
): ParsedOptions<S> {
  const flagOptions: Record<string, { type: 'string' | 'boolean' }> = { help: { type: 'boolean' } };
  for (const [key, spec] of Object.entries(specs)) flagOptions[kebab(key)] = { type: spec.boolean ? 'boolean' : 'string' };
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args: [...argv], options: flagOptions, strict: true, allowPositionals });
  } catch (error) {
    throw new LabError('LAB_ERR_CONFIG', `${(error as Error).message} (see --help)`);
  }
  if (parsed.values.help === true) return { help: true };

  const raw: Record<string, unknown> = {};
  const shape: Record<string, z.ZodType> = {};
  for (const [key, spec] of Object.entries(specs)) {
    const flag = parsed.values[kebab(key)];
    const fromEnv = spec.env ? env[spec.env] : undefined;
    const value = flag ?? (fromEnv !== undefined && fromEnv !== '' ? fromEnv : spec.default);
    raw[key] = spec.boolean && typeof value === 'string' ? ['1', 'true', 'yes'].includes(value.toLowerCase()) : value;
    shape[key] = spec.schema;
  }
  const result = z.object(shape).safeParse(raw);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    const key = String(issue.path[0]);
    const spec = specs[key];
    const source = spec?.env ? `--${kebab(key)} / ${spec.env}` : `--${kebab(key)}`;
    throw new LabError('LAB_ERR_CONFIG', `invalid ${source}: ${summarizeIssues(result.error)}`);
  }
  return { help: false, values: result.data as OptionValues<S>, positionals: parsed.positionals };
}

/**
 * The options the user set, by flag or environment variable, written back as flags (`--key value`, a
 * switch alone), in the user's own words: for a process that takes the same options but sees neither
 * this one's command line nor its environment (a program in a user-mode Linux guest). What was not set
 * is left out, so the other side takes the same defaults from the same table. `skip`: options this
 * process gives the other itself.
 */
export function optionArgs(specs: OptionSpecs, argv: readonly string[], env: Readonly<Record<string, string | undefined>>, skip: readonly string[] = []): string[] {
  const flagOptions: Record<string, { type: 'string' | 'boolean' }> = { help: { type: 'boolean' } };
  for (const [key, spec] of Object.entries(specs)) flagOptions[kebab(key)] = { type: spec.boolean ? 'boolean' : 'string' };
  const { values } = parseArgs({ args: [...argv], options: flagOptions, strict: false, allowPositionals: true });
  const args: string[] = [];
  for (const [key, spec] of Object.entries(specs)) {
    if (skip.includes(key)) continue;
    const flag = values[kebab(key)];
    const fromEnv = spec.env ? env[spec.env] : undefined;
    const raw = flag ?? (fromEnv !== undefined && fromEnv !== '' ? fromEnv : undefined);
    if (raw === undefined || raw === false) continue;
    if (spec.boolean) {
      if (raw === true || ['1', 'true', 'yes'].includes(String(raw).toLowerCase())) args.push(`--${kebab(key)}`);
    } else args.push(`--${kebab(key)}`, String(raw));
  }
  return args;
}

/** The `--help` text: usage, a description, then every option with its variable and default. */
export function formatHelp(usage: string, description: string, specs: OptionSpecs): string {
  const rows = Object.entries(specs).map(([key, spec]) => {
    const flag = `--${kebab(key)}${spec.boolean ? '' : ' <value>'}`;
    const notes = [spec.env ? `env ${spec.env}` : '', spec.default ? `default ${spec.default}` : '']
      .filter(Boolean)
      .join(', ');
    return { flag, text: notes ? `${spec.description} (${notes})` : spec.description };
  });
  rows.push({ flag: '--help', text: 'show this help and exit' });
  const width = Math.max(...rows.map((r) => r.flag.length)) + 2;
  return [`Usage: ${usage}`, '', description, '', 'Options:', ...rows.map((r) => `  ${r.flag.padEnd(width)}${r.text}`), ''].join('\n');
}

/**
 * A command's start: parses argv and the environment, or prints --help and returns null.
 * Throws LAB_ERR_CONFIG for a bad value (runMain turns it into exit status 2).
 */
export function parseCommandLine<S extends OptionSpecs>(
  specs: S,
  help: { usage: string; description: string; allowPositionals?: boolean },
): { values: OptionValues<S>; positionals: string[] } | null {
  const parsed = parseOptions(specs, process.argv.slice(2), process.env, { allowPositionals: help.allowPositionals ?? false });
  if (!parsed.help) return parsed;
  process.stdout.write(formatHelp(help.usage, help.description, specs));
  return null;
}

/** Shared schemas for option values. */
export const portSchema = z.coerce.number().int().min(0).max(65_535);
export const positiveIntSchema = z.coerce.number().int().positive();
export const nonNegativeIntSchema = z.coerce.number().int().nonnegative();

/**
 * An option written in words of its own (an impairment profile, a sweep), read by `parse`: what `parse`
 * throws becomes the option's issue, so it is reported like any other bad option.
 */
export function parsedText<T>(parse: (text: string) => T) {
  return z.string().transform((text, ctx): T => {
    try {
      return parse(text);
    } catch (error) {
      ctx.addIssue({ code: 'custom', message: error instanceof Error ? error.message : String(error) });
      return z.NEVER;
    }
  });
}

/** Logging options every service shares; spread into a service's own option specs. */
export const loggingOptions = {
  logLevel: { description: `log level: ${logLevels.join(', ')}`, env: 'LOG_LEVEL', default: 'info', schema: z.enum(logLevels) },
  logFormat: {
    description: 'log format: json (one object per line), pretty, or auto (pretty on a terminal)',
    env: 'LOG_FORMAT',
    default: 'auto',
    schema: z.enum(['auto', 'json', 'pretty']),
  },
  trace: {
    description: 'show the whole socket lifecycle, transfer progress included (same as --log-level trace)',
    env: 'LOG_TRACE',
    boolean: true,
    schema: z.boolean().default(false),
  },
} satisfies OptionSpecs;

/** The logger a command's logging options ask for. */
export function createLogger(service: string, options: OptionValues<typeof loggingOptions>, stream?: Writable): Logger {
  return new Logger({ service, level: options.trace ? 'trace' : options.logLevel, format: options.logFormat, ...(stream ? { stream } : {}) });
}
