import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, closeSync, constants, copyFileSync, existsSync, fstatSync, lstatSync, mkdtempSync, openSync, readdirSync, readFileSync, readSync, statfsSync, writeFileSync } from 'node:fs';
import { StringDecoder } from 'node:string_decoder';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { LabError } from '@lab/protocol';
import { exchangePathProblem, foldersToShow, mountOptionsIn } from './uml-guest-paths.ts';
import { buildXstateShim } from './uml-xstate.ts';

/**
 * A Linux kernel that runs as an ordinary process: user-mode Linux (Debian's `user-mode-linux` package,
 * linux.uml and its modules). Its kernel has what the host's may lack (sch_netem among them), so a job
 * run inside it can use every netem impairment on any Linux host. This file boots one such guest for one
 * job and brings back what the job printed and its exit status; it knows nothing of the lab.
 *
 * What the guest can touch on the host: it sees the host's filesystem read-only (hostfs), one exchange
 * folder read-write, and nothing of the host's network (it has no network device out). Run by root, the
 * kernel runs as the unprivileged user `nobody` when that user can read the checkout, so that even a
 * mistake in the guest cannot write the host's files; and always in a PID namespace of its own whose
 * parent dies with the caller (PR_SET_PDEATHSIG), so that no piece of it outlives the run, even when
 * the caller is killed outright.
 */
export const UML_KERNEL = '/usr/bin/linux.uml';
export const UML_MODULES = '/usr/lib/uml/modules';
/** The unprivileged host user the kernel runs as when started by root (Debian's nobody). */
export const GUEST_HOST_UID = 65534;

/**
 * Where the guest sees the exchange folder (lab/uml-init.sh mounts it there): paths in the job that
 * point into the exchange folder must use this one, not the host's.
 */
export const GUEST_EXCHANGE = '/run/lab-exchange';

/** Modules of the user-mode kernel the lab needs: netem on egress and, through an ifb device, on ingress. */
export const LAB_GUEST_MODULES = ['sch_netem', 'veth', 'bridge', 'ifb', 'sch_ingress', 'cls_matchall', 'act_mirred'];

export interface UmlKernel {
  path: string;
  /** The kernel's release (the one module folder under UML_MODULES), e.g. 6.1.176. */
  release: string;
}

/** The user-mode kernel and its modules, when installed. */
export function findUmlKernel(): UmlKernel | null {
  if (!existsSync(UML_KERNEL) || !existsSync(UML_MODULES)) return null;
  // The kernel says its release; an upgrade may leave an older module folder beside the right one.
  const release = spawnSync(UML_KERNEL, ['--version'], { encoding: 'utf8', timeout: 10_000 }).stdout?.trim().split('\n')[0] ?? '';
  const releases = readdirSync(UML_MODULES).filter((name) => existsSync(join(UML_MODULES, name, 'modules.dep')));
  if (releases.includes(release)) return { path: UML_KERNEL, release };
  return releases.length === 1 ? { path: UML_KERNEL, release: releases[0]! } : null;
}

export interface GuestJob {
  /**
   * The command, with absolute paths: the guest's root is the host's filesystem, so they are the same
   * inside (a folder under /tmp, /run or /dev included: see `reads`).
   */
  argv: string[];
  /**
   * The job's whole environment, besides HOME=/tmp and LAB_UML_HOST_USER (who the kernel runs as on the
   * host, in words): nothing of the caller's leaks in.
   */
  env: Record<string, string>;
  cwd: string;
  /**
   * A folder of the host, absolute, that the guest mounts read-write at GUEST_EXCHANGE: the job's argv,
   * env, stdout, stderr, status and the kernel's console land here, and the job may write its results
   * here. Nothing else of the host is writable to the guest. Its path goes on the kernel's command line
   * (see exchangePathProblem); makeExchange gives one that fits.
   */
  exchange: string;
  /** The checkout, so the guest's init script (lab/uml-init.sh) can be found. */
  root: string;
  /**
   * Host folders the job reads besides the checkout, the working folder and the program's own folder
   * (which it always may): the guest shows each at its own path, also where its private /tmp, /run or
   * /dev would hide it.
   */
  reads?: string[];
  modules?: string[];
  memoryMiB?: number;
  /** The kernel is killed after this long and the run reported as timed out (LAB_ERR_TIMEOUT). */
  timeoutMs: number;
  /**
   * Each line the job writes to stderr, while it runs (progress). A line it answers true for is its
   * own (data, not words): it is left out of the run's `stderr`, which errors quote.
   */
  onStderrLine?: (line: string) => boolean | void;
  /** Aborting kills the guest at once (SIGKILL: its disk is the host's, read-only, so nothing is lost). */
  signal?: AbortSignal;
}

export interface GuestRun {
  /** The job's exit status; null when the guest ended without one (it crashed, was killed or timed out). */
  status: number | null;
  stdout: string;
  /** Its stderr: the last 500 lines, without those onStderrLine took as its own. */
  stderr: string;
  /** What the guest kernel and its init printed (for errors). */
  console: string;
  /** Who the kernel ran as on the host. */
  hostUser: string;
}

function assertLines(values: readonly string[], what: string): void {
  for (const value of values) if (/[\n\r\0]/.test(value)) throw new LabError('LAB_ERR_CONFIG', `${what} may not hold a line break or NUL: ${JSON.stringify(value)}`);
}

/** Can `uid` read `path`, and enter it if it is a folder (and so run the lab from it inside a guest that runs as it)? */
function userCanRead(uid: number, path: string): boolean {
  const check = 'test -r "$1" && { test ! -d "$1" || test -x "$1"; }';
  const probe = spawnSync('setpriv', [`--reuid=${uid}`, `--regid=${uid}`, '--clear-groups', 'sh', '-c', check, 'sh', path], { encoding: 'utf8' });
  return probe.status === 0;
}

/**
 * How the kernel is started, as argv, and who it runs as. The outer `setpriv --pdeathsig KILL` ties the
 * whole run to the caller; `unshare --pid --fork --kill-child` puts the kernel and every host process it
 * forks into a PID namespace of their own, which the kernel of the host empties when the namespace's first
 * process dies (pid_namespaces(7)): a killed caller leaves no kernel and no helper behind.
 */
function launcher(job: GuestJob): { prefix: string[]; hostUser: string; uid: number | null } {
  const contain = ['setpriv', '--pdeathsig', 'KILL', 'unshare', '--pid', '--fork', '--kill-child=SIGKILL'];
  if (process.getuid?.() !== 0) {
    // Without root there is no PID namespace to be had without a user namespace, and in one the host's
    // root owns nothing: hostfs would show every setuid-root program (mount) as nobody's, and the guest's
    // init could mount nothing. So: the kernel dies with the caller, and its helpers are killed after it.
    return { prefix: ['setpriv', '--pdeathsig', 'KILL'], hostUser: `uid ${process.getuid?.()}`, uid: null };
  }
  // nobody must read the checkout and Node, and reach the exchange folder (it is made its owner).
  const blocked = [job.root, job.argv[0]!, dirname(job.exchange)].find((path) => !userCanRead(GUEST_HOST_UID, path));
  if (blocked) return { prefix: contain, hostUser: `root (uid ${GUEST_HOST_UID} cannot reach ${blocked})`, uid: null };
  return {
    prefix: [...contain, 'setpriv', `--reuid=${GUEST_HOST_UID}`, `--regid=${GUEST_HOST_UID}`, '--clear-groups', '--pdeathsig', 'KILL'],
    hostUser: `uid ${GUEST_HOST_UID} (nobody)`,
    uid: GUEST_HOST_UID,
  };
}

/** Host processes that belong to the guest of `exchange` (the kernel and the processes it forked carry it in their command line). */
export function guestProcesses(exchange: string): number[] {
  const mark = `lab_exchange=${exchange}\0`;
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, 'latin1').includes(mark)) pids.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

/** Where the kernel keeps the guest's memory: a file it maps executable (TMPDIR). */
const GUEST_MEMORY_DIR = '/dev/shm';

/**
 * Where exchange folders are made: the host's /tmp, which every user may reach, and which the kernel sees
 * through its root when it starts the init from there (not /dev/shm: the kernel mounts its own /dev
 * before it starts the init). Its path is plain, whatever the user's paths are.
 */
export const EXCHANGE_BASE = '/tmp';

/** A new exchange folder, `EXCHANGE_BASE/<prefix>XXXXXX`: the caller removes it. */
export function makeExchange(prefix: string): string {
  return mkdtempSync(join(EXCHANGE_BASE, prefix));
}

/** The mount options of the file system that holds `path`. */
const mountOptionsOf = (path: string) => mountOptionsIn(existsSync('/proc/mounts') ? readFileSync('/proc/mounts', 'utf8') : '', path);

/**
 * How much memory the guest can have: what was asked, or less where /dev/shm has less room (it is half
 * the RAM by default; a container's is 64 MiB). The guest needs about 300 MiB for the lab; below that, or
 * where /dev/shm is mounted noexec, it cannot run, and that is said instead of a guest that dies.
 */
function guestMemoryMiB(wanted: number): number {
  if (mountOptionsOf(GUEST_MEMORY_DIR).includes('noexec')) throw new LabError('LAB_ERR_GUEST', `${GUEST_MEMORY_DIR} is mounted noexec: a user-mode Linux kernel keeps its memory in a file there that it must map executable`);
  const stats = statfsSync(GUEST_MEMORY_DIR);
  const freeMiB = Math.floor((stats.bavail * stats.bsize) / 2 ** 20) - 64;
  const memory = Math.min(wanted, freeMiB);
  if (memory < 384) throw new LabError('LAB_ERR_GUEST', `${GUEST_MEMORY_DIR} has ${freeMiB + 64} MiB free; the user-mode Linux kernel keeps its memory there and needs at least 448 MiB`);
  return memory;
}

function killQuietly(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // gone already
  }
}

/** Follows a file another process appends to, calling `onLine` for each complete line. */
function follow(path: string, onLine: (line: string) => void): { poll: () => void; flush: () => void } {
  let offset = 0;
  let partial = '';
  // A character split between two reads is kept for the next one.
  const decoder = new StringDecoder('utf8');
  const poll = () => {
    let fd: number;
    try {
      // O_NOFOLLOW: the guest writes this file; a link it made in its place is not followed.
      fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW);
    } catch {
      return;
    }
    try {
      const size = fstatSync(fd).size;
      if (size <= offset) return;
      const buffer = Buffer.alloc(size - offset);
      const read = readSync(fd, buffer, 0, buffer.length, offset);
      offset += read;
      const lines = (partial + decoder.write(buffer.subarray(0, read))).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) onLine(line);
    } finally {
      closeSync(fd);
    }
  };
  const flush = () => {
    poll();
    if (partial) onLine(partial);
    partial = '';
  };
  return { poll, flush };
}

/** A file the guest wrote, read only if it is a plain file: a link the guest made is not followed. */
const readText = (path: string) => (existsSync(path) && lstatSync(path).isFile() ? readFileSync(path, 'utf8') : '');

/**
 * Boots a user-mode Linux guest, runs `job` in it and resolves when the guest is gone (also after a
 * timeout or an abort: then `status` is null). The exchange folder must exist; the caller removes it.
 */
export async function runInGuest(job: GuestJob): Promise<GuestRun> {
  const kernel = findUmlKernel();
  if (!kernel) throw new LabError('LAB_ERR_CONFIG', `no user-mode Linux kernel: ${UML_KERNEL} and ${UML_MODULES}/<release>/ are needed (Debian: apt-get install user-mode-linux kmod gcc)`);
  const exchangeProblem = exchangePathProblem(job.exchange);
  if (exchangeProblem) throw new LabError('LAB_ERR_CONFIG', exchangeProblem);
  if (mountOptionsOf(job.exchange).includes('noexec')) {
    throw new LabError('LAB_ERR_GUEST', `${job.exchange} is on a file system mounted noexec: the kernel starts its init from there, and preloads its register shim from there`);
  }
  const program = job.argv[0] ?? '';
  const shown = foldersToShow([job.root, job.cwd, ...(isAbsolute(program) ? [dirname(program)] : []), ...(job.reads ?? [])]);
  if ('problem' in shown) throw new LabError('LAB_ERR_CONFIG', shown.problem);
  const folders = shown.folders;
  const memoryMiB = guestMemoryMiB(job.memoryMiB ?? 1024);
  const { prefix, hostUser, uid } = launcher(job);
  // The job learns what it runs in: the guest's kernel release it can read itself, its host user not.
  // It runs as the guest's root: the system programs (ip, tc) must be on its PATH even if not on ours.
  const path = (job.env.PATH ?? '/usr/bin:/bin').split(':');
  for (const dir of ['/usr/sbin', '/sbin']) if (!path.includes(dir)) path.push(dir);
  const env = { ...job.env, PATH: path.join(':'), LAB_UML_HOST_USER: hostUser };
  assertLines(job.argv, 'an argument of the guest job');
  assertLines(Object.entries(env).map(([key, value]) => `${key}=${value}`), 'a variable of the guest job');
  writeFileSync(join(job.exchange, 'argv'), `${job.argv.join('\n')}\n`);
  writeFileSync(join(job.exchange, 'env'), Object.entries(env).map(([key, value]) => `${key}=${value}\n`).join(''));
  writeFileSync(join(job.exchange, 'cwd'), `${resolve(job.cwd)}\n`);
  writeFileSync(join(job.exchange, 'mounts'), folders.map((folder) => `${folder}\n`).join(''));
  // The kernel runs its init from a copy in the exchange folder, whose path is plain: the checkout's may not be.
  const init = join(job.exchange, 'init.sh');
  copyFileSync(join(job.root, 'lab/uml-init.sh'), init);
  chmodSync(init, 0o755);

  const shim = buildXstateShim(job.exchange);
  if (uid !== null) chownSync(job.exchange, uid, uid);
  const consolePath = join(job.exchange, 'console.log');
  const consoleFile = openSync(consolePath, 'w');
  if (uid !== null) chownSync(consolePath, uid, uid);
  const parameters = [
    `mem=${memoryMiB}M`,
    // The host's filesystem is the guest's root, read-only; lab/uml-init.sh mounts what may be written.
    'root=/dev/root',
    'rootfstype=hostfs',
    'rootflags=/',
    'ro',
    `init=${init}`,
    // The console goes to a file, never a pipe: a pipe held by a leftover helper would never close.
    'con=null',
    'con0=null,fd:1',
    'quiet',
    // The kernel's pid file and management socket go into the exchange folder, not the user's ~/.uml.
    `uml_dir=${job.exchange}`,
    'umid=lab',
    // Unknown key=value parameters reach init as environment variables (and mark the kernel's processes).
    `lab_exchange=${job.exchange}`,
    `lab_load=${(job.modules ?? LAB_GUEST_MODULES).join(',')}`,
    `lab_modules=${UML_MODULES}`,
  ];
  // The shim is preloaded into the kernel alone, through env(1) after the prefix has dropped to the
  // kernel's user: never into the prefix's programs, which may run as root, from a folder that user owns.
  const [file, ...args] = [...prefix, 'env', `LD_PRELOAD=${shim}`, kernel.path, ...parameters];
  // A process group of its own: a kernel that panics sends SIGTERM to its whole group
  // (arch/um/os-Linux/util.c, os_dump_core), which would otherwise be the caller's.
  const child = spawn(file!, args, { stdio: ['ignore', consoleFile, consoleFile], env: { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin', TMPDIR: GUEST_MEMORY_DIR }, detached: true });
  closeSync(consoleFile);

  // The job's words on stderr, its last 500 lines: what an error quotes.
  const said: string[] = [];
  const stderrLines = follow(join(job.exchange, 'stderr'), (line) => {
    if (job.onStderrLine?.(line) === true) return;
    said.push(line);
    if (said.length > 500) said.shift();
  });
  let timedOut = false;
  const kill = () => child.kill('SIGKILL');
  // A kernel that panics does not exit: it spins until killed. Its console says so; the run ends there.
  let panic: string | null = null;
  const consoleTail: string[] = [];
  const consoleLines = follow(consolePath, (line) => {
    if (panic !== null) return;
    if (line.includes('Kernel panic')) {
      panic = [...consoleTail, line].join(' | ');
      kill();
    } else consoleTail.splice(0, consoleTail.length, ...consoleTail.slice(-2), line);
  });
  const poller = setInterval(() => {
    stderrLines.poll();
    consoleLines.poll();
  }, 250);
  // setTimeout takes at most 2^31 - 1 ms (24.8 days); beyond, Node would fire it at once.
  const timer = setTimeout(() => {
    timedOut = true;
    kill();
  }, Math.min(job.timeoutMs, 2 ** 31 - 1));
  job.signal?.addEventListener('abort', kill, { once: true });
  try {
    await new Promise<void>((resolve) => {
      child.once('error', () => resolve());
      child.once('close', () => resolve());
    });
  } finally {
    clearTimeout(timer);
    clearInterval(poller);
    job.signal?.removeEventListener('abort', kill);
  }
  stderrLines.flush();
  consoleLines.flush();
  // The namespace's processes die with its first one, a moment after it: wait until none is left. A
  // kernel that was killed without a PID namespace (not root) leaves its helpers: they go now.
  for (let i = 0; i < 100 && guestProcesses(job.exchange).length > 0; i++) {
    if (i === 20) for (const pid of guestProcesses(job.exchange)) killQuietly(pid);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }

  const started = existsSync(join(job.exchange, 'started'));
  const startWords = readText(join(job.exchange, 'start.log')).trim();
  const statusText = readText(join(job.exchange, 'status')).trim();
  const run: GuestRun = {
    status: /^\d+$/.test(statusText) ? Number(statusText) : null,
    stdout: readText(join(job.exchange, 'stdout')),
    stderr: said.join('\n'),
    console: [readText(consolePath), readText(join(job.exchange, 'init.log'))].join('\n').trim(),
    hostUser,
  };
  if (panic !== null) throw new LabError('LAB_ERR_GUEST', `the user-mode Linux kernel panicked and was stopped; its console: ${panic}`);
  if (timedOut) throw new LabError('LAB_ERR_GUEST', `the user-mode Linux guest did not finish within ${Math.round(job.timeoutMs / 1000)} s and was killed; its last output: ${run.stderr.slice(-1500)}`);
  // A job that never started has no words of its own: the guest's init says why (a folder it could not
  // show or enter, a program that is not there), or, where the init itself failed, the console does.
  if (!started && !job.signal?.aborted) {
    const why = startWords || run.console.slice(-1500) || 'the guest said nothing';
    throw new LabError('LAB_ERR_GUEST', `the job in the user-mode Linux guest did not start (${job.argv[0]}): ${why}`);
  }
  return run;
}
