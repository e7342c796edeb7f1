import { spawnSync } from 'node:child_process';

/**
 * Compose v2 (`docker compose`) where it is installed, else Compose v1 (`docker-compose`, all that
 * Debian 12 ships). docker-compose.yml is written for both.
 */
export function composeCommand(): string[] {
  const v2 = spawnSync('docker', ['compose', 'version'], { stdio: 'ignore' });
  if (v2.status === 0) return ['docker', 'compose'];
  const v1 = spawnSync('docker-compose', ['version', '--short'], { stdio: 'ignore' });
  if (v1.status === 0) return ['docker-compose'];
  throw new Error('neither `docker compose` nor `docker-compose` is installed (npm run bootstrap installs it on Debian)');
}
