import { readFileSync } from 'node:fs';

/**
 * The pid written in `path`, if that process is alive: a run that died leaves a pid nobody has (or a
 * missing or garbled file). kill(2) with signal 0 checks existence only; EPERM means alive but not ours
 * to signal.
 */
export function livePidIn(path: string): number | null {
  let pid: number;
  try {
    pid = Number(readFileSync(path, 'utf8').trim());
  } catch {
    return null;
  }
  if (!Number.isInteger(pid) || pid <= 0) return null;
  try {
    process.kill(pid, 0);
    return pid;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM' ? pid : null;
  }
}
