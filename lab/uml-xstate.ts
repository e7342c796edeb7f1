import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { LabError } from '@lab/protocol';

/** The shim's source, beside this file: why it exists is written there. */
const SOURCE = join(import.meta.dirname, 'uml-xstate.c');

/**
 * Builds lab/uml-xstate.c into `folder` and returns the library's path, for LD_PRELOAD of linux.uml.
 * Built per run with the host's C compiler (a second or less), so that no build output of the checkout
 * can be stale or foreign to this host; its temporary files go into `folder` too.
 */
export function buildXstateShim(folder: string): string {
  const output = join(folder, 'uml-xstate.so');
  const build = spawnSync('cc', ['-O2', '-Wall', '-shared', '-fPIC', '-o', output, SOURCE, '-ldl'], {
    encoding: 'utf8',
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', TMPDIR: folder },
    timeout: 60_000,
  });
  if (build.error || build.status !== 0) {
    const why = build.error ? build.error.message : build.stderr.trim().split('\n').slice(-3).join(' ');
    throw new LabError(
      'LAB_ERR_CONFIG',
      `the user-mode Linux kernel needs a small library built from lab/uml-xstate.c (without it, Linux 6.1's user-mode kernel panics on CPUs with more register state than it keeps, such as AMX's), and the C compiler failed: ${why} (Debian: apt-get install gcc libc6-dev, or npm run bootstrap -- --uml)`,
    );
  }
  return output;
}
