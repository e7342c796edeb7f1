import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { release } from 'node:os';
import { join } from 'node:path';

/**
 * Does the host's kernel have netem? As root, the answer is tried, not guessed: a netem qdisc is added
 * to the loopback of a network namespace that exists only for that one command (`unshare --net`, so no
 * interface of the host is touched and nothing is left behind), which also loads the module if it is
 * there. Without root, the kernel cannot be asked that way (a user namespace may not load modules), so
 * the module is looked for: loaded (/sys/module/sch_netem), built in or on disk (the kernel's modules.builtin
 * and modules.dep).
 */
export function hostHasNetem(): { netem: boolean; evidence: string } {
  if (process.getuid?.() === 0) {
    const probe = spawnSync('unshare', ['--net', 'tc', 'qdisc', 'add', 'dev', 'lo', 'root', 'netem', 'delay', '1ms'], { encoding: 'utf8', timeout: 10_000 });
    if (probe.error) return { netem: false, evidence: `cannot run unshare and tc: ${probe.error.message}` };
    return probe.status === 0 ? { netem: true, evidence: 'tc added a netem qdisc' } : { netem: false, evidence: `tc said: ${(probe.stderr || probe.stdout).trim()}` };
  }
  if (existsSync('/sys/module/sch_netem')) return { netem: true, evidence: 'the sch_netem module is loaded' };
  // modinfo lives in /sbin, which a user's PATH may lack: look for the module where the kernel keeps it.
  const modules = join('/lib/modules', release());
  const builtIn = existsSync(join(modules, 'modules.builtin')) && readFileSync(join(modules, 'modules.builtin'), 'utf8').includes('/sch_netem.ko');
  const onDisk = existsSync(join(modules, 'modules.dep')) && /(^|\/)sch_netem\.ko(\.\w+)?:/m.test(readFileSync(join(modules, 'modules.dep'), 'utf8'));
  if (builtIn || onDisk) return { netem: true, evidence: `the sch_netem module is ${builtIn ? 'built in' : 'installed'} (${modules})` };
  return { netem: false, evidence: `no sch_netem module for this kernel (${modules})` };
}
