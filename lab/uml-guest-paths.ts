import { isAbsolute, resolve } from 'node:path';

/**
 * Which host paths a user-mode Linux guest can be given, and how (pure: paths in, problems or lists out).
 *
 * The guest's root is the host's filesystem over hostfs, but its init (lab/uml-init.sh) mounts a /tmp,
 * /run and /dev of the guest's own, which hide the host's, and its /proc and /sys are its own kernel's.
 * A folder the job reads there (a checkout under /tmp, as clones often are) is shown from the host at
 * its own path; one under /proc or /sys cannot be.
 */

/**
 * The kernel's command line is split at spaces (and some parameters at commas), and LD_PRELOAD at spaces
 * and colons: the exchange folder, whose path goes into both, must be plain. The lab makes it itself
 * (makeExchange), so this holds; every path the user chose (the checkout, Node, the results folder) goes
 * to the guest in files instead, and may be anything but a line break.
 */
const plainPath = /^\/[\w./+@-]*$/;

/** Why `path` cannot be the exchange folder, or null. */
export function exchangePathProblem(path: string): string | null {
  return plainPath.test(path) ? null : `the exchange folder's path goes on the user-mode kernel's command line and into LD_PRELOAD, so it may hold letters, digits and . _ - + @ / only: ${JSON.stringify(path)}`;
}

/** Host folders the guest cannot show at their own paths: nothing can be mounted inside its own /proc and /sys. */
const UNSHOWABLE = ['/proc', '/sys'];

/**
 * Why the guest cannot read `path` at its own path, or null: it must be absolute, hold no line break (the
 * guest reads it as one line of a file), and lie outside the guest kernel's own /proc and /sys.
 */
export function guestPathProblem(path: string): string | null {
  if (!isAbsolute(path)) return 'it is not an absolute path';
  if (/[\n\r\0]/.test(path)) return 'it holds a line break or NUL, and the guest reads each path as one line';
  const hidden = UNSHOWABLE.find((top) => path === top || path.startsWith(`${top}/`));
  if (hidden) return `it lies under ${hidden}, which inside the guest is its own kernel's`;
  return null;
}

/**
 * The folders the guest must show, each once, parents before their children: the init mounts each that
 * it does not find, in this order, so one inside a folder already shown needs no mount of its own. Or the
 * first problem, in words that name the path.
 */
export function foldersToShow(folders: readonly string[]): { folders: string[] } | { problem: string } {
  for (const folder of folders) {
    const problem = guestPathProblem(folder);
    if (problem) return { problem: `the user-mode Linux guest must read ${JSON.stringify(folder)} at the same path as the host, but ${problem}` };
  }
  return { folders: [...new Set(folders.map((folder) => resolve(folder)))].sort((a, b) => a.length - b.length || a.localeCompare(b)) };
}

/**
 * The mount options of the file system that holds `path`, from the text of /proc/mounts: those of the
 * longest mount point above it.
 */
export function mountOptionsIn(mounts: string, path: string): string[] {
  let best: { point: string; options: string[] } | null = null;
  for (const line of mounts.split('\n')) {
    const [, rawPoint, , options] = line.split(' ');
    if (rawPoint === undefined || options === undefined) continue;
    // /proc/mounts writes a space in a mount point as \040 (and tab, newline, backslash likewise): proc(5).
    const point = rawPoint.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8)));
    const holds = point === '/' || path === point || path.startsWith(`${point}/`);
    if (holds && (!best || point.length >= best.point.length)) best = { point, options: options.split(',') };
  }
  return best?.options ?? [];
}
