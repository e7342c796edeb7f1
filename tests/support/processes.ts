import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFile } from 'node:fs/promises';
import { programs, startService, type ServiceProcess as ServiceStarted } from '../../lab/service-process.ts';
import { repoRoot } from './lab-containers.ts';

export const CLIENT = programs.client;

export interface ServiceProcess extends ServiceStarted {
  /** Peak resident memory so far, from /proc/PID/status (VmHWM), in bytes. */
  peakRss: () => Promise<number>;
  /** Resident memory now (VmRSS), in bytes. */
  rss: () => Promise<number>;
}

/**
 * Starts the TCP server as its own process, as a user would, and resolves once it printed `readyLines`
 * readiness lines (one per listener). Its logs are JSON and kept for assertions. `prefix` runs it under
 * another command (unshare, say), which must exec it in place so that the child's pid is the server's.
 */
export async function startTcpServer(args: string[], readyLines = 1, prefix: string[] = []): Promise<ServiceProcess> {
  // Generous: a server that starts by reading thousands of partial uploads, on a loaded machine.
  const server = await startService('tcp-server', args, { cwd: repoRoot, readyLines, prefix, timeoutMs: 60_000 });
  return { ...server, peakRss: () => statusBytes(server.child.pid, 'VmHWM'), rss: () => statusBytes(server.child.pid, 'VmRSS') };
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
