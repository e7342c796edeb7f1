import { basename, resolve } from 'node:path';
import { LabError } from '@lab/protocol';
import { createLogger, type OptionValues } from '@lab/runtime';
import type { connectionOptions, jsonOption, transferOptions } from './config.ts';
import { formatBytes } from './progress.ts';
import { TcpFileClient } from './tcp-client.ts';
import { getFile, sendFile, type TransferContext } from './transfers.ts';

type Connection = OptionValues<typeof connectionOptions>;
type Transfer = Connection & OptionValues<typeof transferOptions>;
type Json = OptionValues<typeof jsonOption>;

/** Results go to stdout (text or one JSON object), logs and progress to stderr. */
function print(config: Json, value: object, text: string): void {
  process.stdout.write(config.json ? `${JSON.stringify(value)}\n` : `${text}\n`);
}

function transferContext(config: Transfer): TransferContext {
  return {
    endpoint: config.server,
    log: createLogger('client', config, process.stderr),
    connectTimeoutMs: config.connectTimeoutMs,
    retries: config.retries,
    limitRate: config.limitRate,
    progress: { mode: config.progress, stream: process.stderr },
  };
}

async function withClient<T>(config: Connection, work: (client: TcpFileClient) => Promise<T>): Promise<T> {
  const log = createLogger('client', config, process.stderr);
  const client = await TcpFileClient.connect({ endpoint: config.server, log, connectTimeoutMs: config.connectTimeoutMs });
  try {
    return await work(client);
  } finally {
    await client.close();
  }
}

const resumedText = (offsets: number[]) =>
  offsets.some((o) => o > 0) ? `, resumed at ${offsets.filter((o) => o > 0).map(formatBytes).join(', ')}` : '';

export async function send(config: Transfer & { as: string | undefined }, [path]: string[]): Promise<number> {
  const name = config.as ?? basename(path!);
  const result = await sendFile(transferContext(config), path!, name);
  const text = result.alreadyStored
    ? `${name}: already stored with the same SHA-256 (${formatBytes(result.size)}), nothing sent`
    : `stored ${name}: ${result.size} bytes, sha256 ${result.sha256} (sent ${result.sentBytes} bytes${resumedText(result.offsets)})`;
  print(config, result, text);
  return 0;
}

export async function get(config: Transfer & { out: string | undefined }, [name]: string[]): Promise<number> {
  const path = resolve(config.out ?? name!);
  const result = await getFile(transferContext(config), name!, path);
  print(config, result, `got ${name} -> ${path}: ${result.size} bytes, sha256 ${result.sha256} (received ${result.receivedBytes} bytes${resumedText(result.offsets)})`);
  return 0;
}

export async function list(config: Connection & Json): Promise<number> {
  const files = await withClient(config, (client) => client.list());
  const width = Math.max(4, ...files.map((f) => f.name.length));
  const rows = files.map((f) => `${f.name.padEnd(width)}  ${String(f.size).padStart(12)}  ${f.modified}`);
  print(config, { files }, files.length === 0 ? '(no files)' : [`${'name'.padEnd(width)}  ${'bytes'.padStart(12)}  modified`, ...rows].join('\n'));
  return 0;
}

export async function statCommand(config: Connection & Json, [name]: string[]): Promise<number> {
  const result = await withClient(config, (client) => client.stat(name!));
  if (!result.stored && result.partials.length === 0) throw new LabError('LAB_ERR_NOT_FOUND', `the server has no file or partial upload named ${name}`);
  const lines = [
    result.stored ? `${name}: ${result.stored.size} bytes, sha256 ${result.stored.sha256}, modified ${result.stored.modified}` : `${name}: not stored`,
    ...result.partials.map((p) => `  interrupted upload of sha256 ${p.sha256}: ${p.received} bytes kept (resumable)`),
  ];
  print(config, result, lines.join('\n'));
  return 0;
}

export async function deleteCommand(config: Connection & Json, [name]: string[]): Promise<number> {
  const result = await withClient(config, (client) => client.delete(name!));
  print(config, result, `deleted ${name} (${result.removed} file${result.removed === 1 ? '' : 's'}, partial uploads included)`);
  return 0;
}
