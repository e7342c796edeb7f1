import { execFile } from 'node:child_process';
import type { Exec, Run } from '@lab/impairment';

/** Output beyond this is a bug in what was run, not something to keep in memory. */
const MAX_OUTPUT = 64 * 1024 * 1024;

/** Runs argv in a container with `docker exec`; stdout apart, and stdout + stderr as `output`. */
export function dockerExecRun(container: string, argv: string[], options: { user?: string; timeoutMs?: number } = {}): Promise<Run & { stdout: string }> {
  const user = options.user ? ['--user', options.user] : [];
  return new Promise((resolve) => {
    execFile('docker', ['exec', ...user, container, ...argv], { timeout: options.timeoutMs ?? 30_000, maxBuffer: MAX_OUTPUT }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
      resolve({ code, stdout, output: `${stdout}${stderr}`.trim() });
    });
  });
}

/** As root: the lab's services run as uid 10001, and only root may use the container's NET_ADMIN. */
export function dockerRootExec(container: string): Exec {
  return (argv) => dockerExecRun(container, argv, { user: '0' });
}
