import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { once } from 'node:events';
import { readFile } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { repoRoot } from './lab-containers.ts';

export const CLIENT = 'services/client/src/main.ts';
export const TCP_SERVER = 'services/tcp-server/src/main.ts';

export interface ServiceProcess {
  child: ChildProcessWithoutNullStreams;
  /** Every JSON log line so far. */
  logs: Record<string, unknown>[];
  /** The endpoints of the readiness lines ("listening on …"), in order. */
  endpoints: string[];
  /** Peak resident memory so far, from /proc/PID/status (VmHWM), in bytes. */
  peakRss: () => Promise<number>;
  /** Resident memory now (VmRSS), in bytes. */
  rss: () => Promise<number>;
  stop: (signal?: NodeJS.Signals) => Promise<number | null>;
}

/**
 * Starts a service as its own process, as a user would, and resolves once it printed `readyLines`
 * readiness lines. Its logs are JSON (LOG_FORMAT=json) and kept for assertions. `prefix` runs it
 * under another command (which must exec it).
 */
export async function startService(main: string, args: string[], readyLines = 1, prefix: string[] = []): Promise<ServiceProcess> {
  // A prefix (unshare, say) must exec the service in place, so that the child's pid is the service's.
  const argv = [...prefix, process.execPath, main, ...args];
  const child = spawn(argv[0]!, argv.slice(1), { cwd: repoRoot, env: { ...process.env, LOG_FORMAT: 'json' } });
  const logs: Record<string, unknown>[] = [];
  const endpoints: string[] = [];
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const ready = new Promise<void>((resolve, reject) => {
    createInterface({ input: child.stdout }).on('line', (line) => {
      try {
        const entry = JSON.parse(line) as Record<string, unknown>;
        logs.push(entry);
        if (entry.event === 'listening') {
          endpoints.push(String(entry.endpoint));
          if (endpoints.length === readyLines) resolve();
        }
      } catch {
        // not a log line
      }
    });
    child.once('exit', (code) => reject(new Error(`${main} exited with ${code} before it was ready: ${stderr}`)));
  });
  await ready;
  return {
    child,
    logs,
    endpoints,
    peakRss: () => statusBytes(child.pid, 'VmHWM'),
    rss: () => statusBytes(child.pid, 'VmRSS'),
    stop: async (signal = 'SIGTERM') => {
      if (child.exitCode !== null) return child.exitCode;
      const exited = once(child, 'exit');
      child.kill(signal);
      const [code] = (await exited) as [number | null];
      return code;
    },
  };
}

async function statusBytes(pid: number | undefined, field: 'VmHWM' | 'VmRSS'): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)?.[1] ?? 0) * 1024;
}

export interface CommandResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a client command to its end. */
export async function runClient(args: string[], env: Record<string, string> = {}): Promise<CommandResult> {
  const child = spawn(process.execPath, [CLIENT, ...args], { cwd: repoRoot, env: { ...process.env, LOG_FORMAT: 'json', ...env } });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const [status] = (await once(child, 'exit')) as [number | null];
  return { status, stdout, stderr };
}

/** Starts a client command and kills it (SIGKILL, as a crash) once `until` says so. */
export async function killClientWhen(args: string[], until: () => Promise<boolean>): Promise<void> {
  const child = spawn(process.execPath, [CLIENT, ...args], { cwd: repoRoot, env: { ...process.env, LOG_FORMAT: 'json' }, stdio: 'ignore' });
  const exited = once(child, 'exit');
  for (let i = 0; i < 3000 && child.exitCode === null; i++) {
    if (await until()) break;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  if (child.exitCode !== null) throw new Error('the client finished before it could be interrupted');
  child.kill('SIGKILL');
  await exited;
}
