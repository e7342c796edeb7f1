import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { LabError } from '@lab/protocol';
import type { Run } from '@lab/impairment';

/** How to run a command on the local lab: a prefix (ip netns exec NS, setpriv …) and an environment. */
export interface Launch {
  prefix: string[];
  env: Record<string, string>;
  cwd: string;
}

/** A service started as a local process; `endpoint` is what its readiness line said ("0.0.0.0:9000"). */
export interface LocalService {
  name: string;
  child: ChildProcess;
  endpoint: string;
  output: string[];
}

/**
 * Starts `node MAIN` under `launch` and resolves once it logs its readiness line ("listening on tcp
 * HOST:PORT" / "listening on udp HOST:PORT"), as the integration tests wait for containers.
 */
export async function startLocalService(name: string, main: string, launch: Launch, ready: RegExp, timeoutMs = 20_000): Promise<LocalService> {
  const child = spawn(launch.prefix[0]!, [...launch.prefix.slice(1), process.execPath, main], {
    cwd: launch.cwd,
    env: { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin', LOG_FORMAT: 'json', ...launch.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  const endpoint = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new LabError('LAB_ERR_TIMEOUT', `${name} did not log ${ready} within ${timeoutMs / 1000} s: ${output.join('').slice(-1000)}`)), timeoutMs);
    const onData = (chunk: Buffer) => {
      output.push(chunk.toString());
      const match = ready.exec(output.join(''));
      if (match) {
        clearTimeout(timer);
        resolve(match[1] ?? '');
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new LabError('LAB_ERR_CONFIG', `${name} exited (${code}) before it was ready: ${output.join('').slice(-1000)}`));
    });
  });
  return { name, child, endpoint, output };
}

/** SIGTERM (the services stop cleanly on it), then SIGKILL after `graceMs`. */
export async function stopLocalService(service: LocalService, graceMs = 5000): Promise<void> {
  if (service.child.exitCode !== null || service.child.signalCode !== null) return;
  const exited = once(service.child, 'exit');
  service.child.kill('SIGTERM');
  const timer = setTimeout(() => service.child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

/** Runs a command to its end under `launch`: its stdout apart, and stdout + stderr as `output`. */
export function runLocal(argv: string[], launch: Launch): Promise<Run & { stdout: string }> {
  return new Promise((resolve) => {
    const child = spawn(launch.prefix[0] ?? argv[0]!, [...launch.prefix.slice(1), ...(launch.prefix.length ? argv : argv.slice(1))], {
      cwd: launch.cwd,
      env: { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin', ...launch.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', (error) => resolve({ code: 127, stdout, output: `${stdout}${stderr}${error.message}`.trim() }));
    child.on('close', (code) => resolve({ code: code ?? 1, stdout, output: `${stdout}${stderr}`.trim() }));
  });
}
