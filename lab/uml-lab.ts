import { copyFileSync, existsSync, lstatSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { release } from 'node:os';
import { join } from 'node:path';
import { LabError } from '@lab/protocol';
import type { GuestTraits } from './netns-lab.ts';
import { EXCHANGE_BASE, GUEST_EXCHANGE, guestProcesses, makeExchange, runInGuest } from './uml-kernel.ts';
import { livePidIn } from './pid-file.ts';
import { LIVE_LINE_PREFIX, parseLiveLine, type LiveEvent } from './live/live-events.ts';
import { WATCHED_FILE } from './live/live-publisher.ts';

/**
 * The lab in a user-mode Linux kernel: the namespaces lab (lab/netns-lab.ts), run inside a Linux kernel
 * that runs as an ordinary process of the host (lab/uml-kernel.ts), so that every netem impairment works
 * on a host whose own kernel has no sch_netem. The host's demo boots the guest with the demo itself as the
 * guest's job (the same options, written out in full), shows the guest's progress as it comes, prints
 * what the guest printed, and moves the results out of the exchange folder into the results folder.
 */

/** Set in the guest's environment: the demo runs there, inside the user-mode kernel. */
export const GUEST_MARK = 'LAB_UML_GUEST';

/** Is this process the demo inside the guest? */
export const inUmlGuest = () => process.env[GUEST_MARK] === '1';

/**
 * Datagrams per second the guest's one CPU carries without shaping the stream itself (seen on a 2-core
 * Debian 12 VM: at 200/s the jitter and lateness netem predicts; at 500/s and more, stalls of the guest's
 * own, 50 ms and longer): above it, jitter and lateness are the lab's own.
 */
export const UML_HONEST_UDP_RATE = 250;

/** What the lab says of itself inside the guest: its kernel, who runs it, and what it costs. */
export function umlLabTraits(): GuestTraits {
  return {
    kernel: `a user-mode Linux ${release()} kernel (linux.uml, run on the host as ${process.env.LAB_UML_HOST_USER ?? 'this user'})`,
    limits: [
      'one CPU, and every packet costs the guest kernel many host system calls: a stream above a few hundred datagrams per second measures the guest, not the network, and TCP reaches a fraction of the host\'s speed',
      `above ${UML_HONEST_UDP_RATE} datagrams/s (the default here is 200/s) jitter and late are mostly the guest's own; even below it, the guest now and then stalls for some milliseconds: the calibration before the first step measures how much, and each figure says whether it is the network's or the lab's own`,
      'its network is the guest\'s only: nothing of it reaches the host or the outside',
    ],
    honestUdpRate: UML_HONEST_UDP_RATE,
  };
}

/** The exchange folders of this lab's guests (in EXCHANGE_BASE), so that a later run finds what a killed one left. */
export const EXCHANGE_PREFIX = 'tcpudplab-uml-';

/** The demo that made an exchange folder, written into it: a folder whose demo is alive is not stale. */
const OWNER = 'owner.pid';

/**
 * What earlier runs killed outright (SIGKILL) left: their exchange folders, and, where the kernel ran
 * without a PID namespace of its own (not root), its helper processes, which carry the folder's path in
 * their command line. A folder whose demo still runs is left alone (two demos may run side by side); one
 * another user's run left and this one may not remove is said, not fatal.
 */
function removeStaleExchanges(say: (line: string) => void): void {
  for (const entry of readdirSync(EXCHANGE_BASE)) {
    if (!entry.startsWith(EXCHANGE_PREFIX)) continue;
    const path = join(EXCHANGE_BASE, entry);
    if (livePidIn(join(path, OWNER)) !== null) continue;
    for (const pid of guestProcesses(path)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone, or not ours
      }
    }
    try {
      rmSync(path, { recursive: true, force: true });
    } catch (error) {
      say(`cannot remove ${path}, left by an earlier run: ${(error as Error).message}`);
    }
  }
}

export interface UmlRun {
  /** The program to run inside, relative to the checkout (scripts/demo.ts), given `--lab uml --out …` first. */
  script: string;
  /** The name its progress lines start with (`demo: …`): the host says its own lab and files, not the guest's. */
  name: string;
  /** The files it writes into its results folder that the host moves out (regular files only). */
  outputs: RegExp;
  /** The checkout: anywhere, a folder under /tmp or a path with spaces included (the guest shows it at its own path). */
  root: string;
  /** The results folder, absolute, anywhere: the guest writes into its exchange folder, and the host moves what it wrote here. */
  out: string;
  /** The guest program's options, in full (never --lab or --out: those are the host's to give). */
  args: string[];
  timeoutMs: number;
  say: (line: string) => void;
  /** Aborting stops the guest at once. */
  signal: AbortSignal;
  /** Each event the guest's demo tells its live page, read back through the events' schema. */
  onLive?: (event: LiveEvent) => void;
  /** Is a page watching? Kept as a file in the exchange folder, which the guest's demo looks for at each step. */
  watched?: () => boolean;
}

/** Runs a lab program (the demo, the accuracy check) in a user-mode Linux guest; resolves with its exit status. */
export async function runUmlLab(run: UmlRun): Promise<number> {
  mkdirSync(run.out, { recursive: true });
  removeStaleExchanges(run.say);
  const exchange = makeExchange(EXCHANGE_PREFIX);
  writeFileSync(join(exchange, OWNER), `${process.pid}\n`);
  const guestOut = join(exchange, 'results');
  const watchedFile = join(exchange, WATCHED_FILE);
  let watched = false;
  const mirrorWatched = setInterval(() => {
    if (Boolean(run.watched?.()) === watched) return;
    watched = !watched;
    if (watched) writeFileSync(watchedFile, '');
    else rmSync(watchedFile, { force: true });
  }, 250);
  try {
    run.say(`booting a user-mode Linux kernel (linux.uml) with the namespaces lab inside; its exchange folder is ${exchange}`);
    const started = performance.now();
    const guest = await runInGuest({
      argv: [process.execPath, join(run.root, run.script), '--lab', 'uml', '--out', join(GUEST_EXCHANGE, 'results'), ...run.args],
      env: { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin', [GUEST_MARK]: '1' },
      cwd: run.root,
      exchange,
      root: run.root,
      timeoutMs: run.timeoutMs,
      signal: run.signal,
      // The guest's demo speaks for itself; the host has said which lab and why, and says where the results are.
      onStderrLine: (line) => {
        if (line.startsWith(LIVE_LINE_PREFIX)) {
          const event = parseLiveLine(line);
          if (event) run.onLive?.(event);
          return true;
        }
        if (!line.startsWith(`${run.name}: lab: `) && !line.startsWith(`${run.name}: wrote `)) process.stderr.write(`${line}\n`);
        return false;
      },
    });
    if (run.signal.aborted) return 1;
    if (guest.status === null) {
      throw new LabError('LAB_ERR_GUEST', `the user-mode Linux guest ended without its exit status after ${((performance.now() - started) / 1000).toFixed(1)} s; its console: ${guest.console.slice(-2000)}; its stderr: ${guest.stderr.slice(-1000)}`);
    }
    process.stdout.write(guest.stdout);
    // Only the regular files the demo writes: whatever else is there (a link, a folder) came from
    // something else inside the guest and is not followed.
    const written = existsSync(guestOut) ? readdirSync(guestOut).filter((name) => run.outputs.test(name) && lstatSync(join(guestOut, name)).isFile()) : [];
    for (const name of written) {
      const target = join(run.out, name);
      // Copied, not renamed: the exchange folder and the results folder may be on different file systems.
      // The copy is made by, and so belongs to, whoever ran the demo, not the user the guest ran as.
      copyFileSync(join(guestOut, name), target);
    }
    if (written.length > 0) run.say(`wrote ${written.map((name) => join(run.out, name)).join(', ')}`);
    run.say(`the user-mode Linux guest ran for ${((performance.now() - started) / 1000).toFixed(1)} s`);
    return guest.status;
  } finally {
    clearInterval(mirrorWatched);
    rmSync(exchange, { recursive: true, force: true });
  }
}
