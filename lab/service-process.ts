import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { LabError } from '@lab/protocol';
import { jsonObject } from './json-lines.ts';

/** The lab's programs, as paths from the checkout's root (the image's WORKDIR holds the same tree). */
export const programs = {
  client: 'services/client/src/main.ts',
  'tcp-server': 'services/tcp-server/src/main.ts',
  'udp-relay': 'services/udp-relay/src/main.ts',
  'container-entry': 'services/container-entry/src/main.ts',
} as const;

export type ServiceName = 'tcp-server' | 'udp-relay';

type ServiceChild = ChildProcessByStdio<null, Readable, Readable>;

/**
 * The line a service logs once it listens, one per listening socket: "listening on tcp HOST:PORT",
 * "listening on udp HOST:PORT" or "listening on unix PATH" (in JSON logs, the "msg" string). Anyone
 * who waits for a service (the labs, the benchmarks, the tests, a container's wait strategy) waits
 * for this line.
 */
export const readinessLine = {
  'tcp-server': /listening on (tcp|unix) ([^\s"]+)/,
  'udp-relay': /listening on (udp) ([^\s"]+)/,
} as const satisfies Record<ServiceName, RegExp>;

/** Where a readiness line says the service listens, as --server takes it ("unix:PATH" for a socket). */
function listeningOn(name: ServiceName, line: string): string | null {
  const match = readinessLine[name].exec(line);
  if (!match) return null;
  return match[1] === 'unix' ? `unix:${match[2]}` : match[2]!;
}

/** A service started as a local process, once it said it is ready. */
export interface ServiceProcess {
  name: ServiceName;
  child: ServiceChild;
  /** What its readiness lines said, in order ("0.0.0.0:9000", "[::1]:41234", a socket's path). */
  endpoints: string[];
  /** Everything it wrote so far, stdout and stderr, as it came. */
  output: string[];
  /** Every JSON log line so far (the services log JSON here: LOG_FORMAT=json). */
  logs: Record<string, unknown>[];
  /** Sends `signal` (SIGTERM: the services stop cleanly on it), SIGKILL after `killAfterMs`; the exit code. */
  stop(signal?: NodeJS.Signals, killAfterMs?: number): Promise<number | null>;
}

export interface StartOptions {
  /** A command the service runs under (ip netns exec NS, setpriv …), which must exec it in place. */
  prefix?: string[];
  /** Its whole environment (LOG_FORMAT=json is added); this process's when absent. */
  env?: Record<string, string | undefined>;
  cwd?: string;
  /** How many readiness lines to wait for: one per listening socket. */
  readyLines?: number;
  timeoutMs?: number;
}

/**
 * Starts a service as its own process, as a user would, and resolves once it logged `readyLines`
 * readiness lines; rejects (LAB_ERR_TIMEOUT) if they do not come in time, or if it exits first.
 */
export async function startService(name: ServiceName, args: string[], options: StartOptions = {}): Promise<ServiceProcess> {
  const { prefix = [], readyLines = 1, timeoutMs = 20_000 } = options;
  const [file, ...rest] = [...prefix, process.execPath, programs[name], ...args];
  const child = spawn(file!, rest, { cwd: options.cwd, env: { ...(options.env ?? process.env), LOG_FORMAT: 'json' }, stdio: ['ignore', 'pipe', 'pipe'] });
  const service: ServiceProcess = { name, child, endpoints: [], output: [], logs: [], stop: (signal, killAfterMs) => stopProcess(child, signal, killAfterMs) };
  const said = () => service.output.join('').slice(-1000);
  child.stderr.on('data', (chunk: Buffer) => service.output.push(chunk.toString()));
  child.stdout.on('data', (chunk: Buffer) => service.output.push(chunk.toString()));
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new LabError('LAB_ERR_TIMEOUT', `${name} did not log ${readinessLine[name]} within ${timeoutMs / 1000} s: ${said()}`)), timeoutMs);
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new LabError('LAB_ERR_CONFIG', `${name} exited (${code}) before it was ready: ${said()}`));
      });
      // The program, or the prefix it runs under (setpriv, unshare), could not be started at all.
      child.once('error', (error) => {
        clearTimeout(timer);
        reject(new LabError('LAB_ERR_CONFIG', `${name} could not be started (${[...prefix, process.execPath].join(' ')}): ${error.message}`));
      });
      createInterface({ input: child.stdout }).on('line', (line) => {
        const entry = jsonObject(line);
        if (entry) service.logs.push(entry);
        const endpoint = listeningOn(name, line);
        if (endpoint !== null && service.endpoints.push(endpoint) === readyLines) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
  } catch (error) {
    await service.stop('SIGKILL');
    throw error;
  }
  return service;
}

/** `signal`, then SIGKILL after `killAfterMs` if it is still there; resolves with its exit code. */
async function stopProcess(child: ServiceChild, signal: NodeJS.Signals = 'SIGTERM', killAfterMs = 30_000): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
  const exited = once(child, 'exit') as Promise<[number | null]>;
  child.kill(signal);
  const timer = setTimeout(() => child.kill('SIGKILL'), killAfterMs);
  const [code] = await exited;
  clearTimeout(timer);
  return code;
}
