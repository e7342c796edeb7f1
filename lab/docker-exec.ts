import type { Exec } from '@lab/impairment';
import { LAB_USER, runCommand, type CommandResult } from '@lab/runtime';

/** Runs argv in a container with `docker exec`, as `user` (the image's, uid 10001, when absent). */
export function dockerExecRun(container: string, argv: string[], options: { user?: string; timeoutMs?: number; onStderrLine?: (line: string) => boolean } = {}): Promise<CommandResult> {
  return runCommand(['docker', 'exec', '--user', options.user ?? LAB_USER, container, ...argv], { timeoutMs: options.timeoutMs ?? 30_000, ...(options.onStderrLine && { onStderrLine: options.onStderrLine }) });
}

/** As root: the lab's services run as uid 10001, and only root may use the container's NET_ADMIN. */
export function dockerRootExec(container: string): Exec {
  return (argv) => dockerExecRun(container, argv, { user: '0' });
}
