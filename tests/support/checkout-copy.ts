import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from './lab-containers.ts';

/**
 * A copy of this checkout (its working tree and node_modules, not its results or build output) in a new
 * folder under `parent`, named with `prefix`: for what must work wherever people clone (/tmp, a path with
 * spaces), whichever folder the tests themselves run from. Files are hard links where the file system
 * allows (a second or two), copies elsewhere. The folder is readable by every user, as a clone is.
 */
export function copyCheckout(parent: string, prefix: string): string {
  const folder = mkdtempSync(join(parent, prefix));
  chmodSync(folder, 0o755);
  const entries = readdirSync(repoRoot).filter((name) => !['.git', 'results', '.lab-build'].includes(name));
  for (const flags of ['-al', '-a']) {
    const copy = spawnSync('cp', [flags, ...entries.map((name) => join(repoRoot, name)), folder], { encoding: 'utf8' });
    if (copy.status === 0) return folder;
  }
  throw new Error(`cannot copy the checkout into ${folder}`);
}
