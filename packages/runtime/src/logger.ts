import type { Writable } from 'node:stream';

export const logLevels = ['trace', 'debug', 'info', 'warn', 'error'] as const;
export type LogLevel = (typeof logLevels)[number];
const levelRank: Record<LogLevel, number> = { trace: 10, debug: 20, info: 30, warn: 40, error: 50 };

export type LogFormat = 'json' | 'pretty';
export type LogFields = Record<string, unknown> & { msg?: string };

export interface LoggerOptions {
  service: string;
  level?: LogLevel;
  /** 'auto' (the default): pretty on a terminal, one JSON object per line otherwise. */
  format?: LogFormat | 'auto';
  stream?: Writable & { isTTY?: boolean };
}

/**
 * Structured lifecycle log: one JSON object per line for machines (`event` is the stable key), a readable
 * line for people on a terminal. `msg`, when given, is the human sentence; readiness lines use it so the
 * fixed text ("listening on tcp …") appears in both formats.
 */
export class Logger {
  readonly #service: string;
  readonly #minRank: number;
  readonly #format: LogFormat;
  readonly #stream: Writable;

  constructor(options: LoggerOptions) {
    const stream = options.stream ?? process.stdout;
    this.#service = options.service;
    this.#minRank = levelRank[options.level ?? 'info'];
    const format = options.format ?? 'auto';
    this.#format = format !== 'auto' ? format : stream.isTTY ? 'pretty' : 'json';
    this.#stream = stream;
  }

  /** Would a line at `level` be written? Lets a hot path skip building fields nobody will see. */
  enabled(level: LogLevel): boolean {
    return levelRank[level] >= this.#minRank;
  }

  trace(event: string, fields: LogFields = {}): void {
    this.#write('trace', event, fields);
  }
  debug(event: string, fields: LogFields = {}): void {
    this.#write('debug', event, fields);
  }
  info(event: string, fields: LogFields = {}): void {
    this.#write('info', event, fields);
  }
  warn(event: string, fields: LogFields = {}): void {
    this.#write('warn', event, fields);
  }
  error(event: string, fields: LogFields = {}): void {
    this.#write('error', event, fields);
  }

  #write(level: LogLevel, event: string, fields: LogFields): void {
    if (levelRank[level] < this.#minRank) return;
    const time = new Date().toISOString();
    if (this.#format === 'json') {
      this.#stream.write(`${JSON.stringify({ time, level, service: this.#service, event, ...fields }, jsonSafe)}\n`);
      return;
    }
    const { msg, ...rest } = fields;
    // A person reads the sentence first; fields it already spells out (an address, a port) are not repeated.
    const tokens = msg?.split(/[\s,()]+|->/) ?? [];
    const words = new Set([...tokens, ...tokens.flatMap((token) => token.split(/:(?=\d+$)/))]);
    const pairs = Object.entries(rest)
      .map(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v, jsonSafe)] as const)
      .filter(([, text]) => !words.has(text))
      .map(([k, text]) => `${k}=${text}`);
    const text = [time.slice(11, 23), level.toUpperCase().padEnd(5), this.#service, msg ?? event, ...pairs].join(' ');
    this.#stream.write(`${text}\n`);
  }
}

/** BigInt (64-bit sequence numbers) and Error values become readable JSON instead of throwing. */
function jsonSafe(_key: string, value: unknown): unknown {
  if (typeof value === 'bigint') return value.toString();
  if (value instanceof Error) return { name: value.name, message: value.message, ...('code' in value ? { code: value.code } : {}) };
  return value;
}
