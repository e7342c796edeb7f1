#!/usr/bin/env node
// `npm run demo`: the contrast experiment. Brings a lab up (a user-mode Linux kernel where the sweep needs
// netem and the host's kernel has none; else Docker containers where an engine answers, else local
// processes in network namespaces as root, else on loopback), sweeps an impairment (packet loss unless
// told otherwise) over the servers' links, prints a block per step and a summary, writes the JSON result,
// an SVG chart and an HTML page, and takes the lab down again, also on failure or Ctrl-C.
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { formatProfile, netemOnly } from '@lab/impairment';
import { LabError } from '@lab/protocol';
import { onStopSignal, parseCommandLine, runMain, signalStatus, type StopSignal } from '@lab/runtime';
import { chooseLab } from '../lab/choose-lab.ts';
import { ComposeProject } from '../lab/compose-lab.ts';
import type { LabBackend } from '@lab/results';
import type { Lab } from '../lab/lab.ts';
import { startLoopbackLab } from '../lab/loopback-lab.ts';
import { removeNetnsLab, startNetnsLab } from '../lab/netns-lab.ts';
import { renderSweepSvg, sweepHtml } from '../lab/sweep-chart.ts';
import { DEFAULT_RATE, LIVE_SAMPLE_MS, planFromOptions, sweepOptions } from '../lab/sweep-options.ts';
import type { SweepPlan } from '../lab/sweep-plan.ts';
import { formatSweep } from '../lab/sweep-table.ts';
import { runSweep } from '../lab/sweep.ts';
import { inUmlGuest, runUmlLab, umlLabTraits } from '../lab/uml-lab.ts';
import { liveEventOf, sweepEnded, sweepStarted } from '../lab/live/live-feed.ts';
import { openLive, type LivePublisher } from '../lab/live/live-publisher.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
/** Where progress lines also go: the live page, once it is open. */
let live: LivePublisher = { publish: () => {}, watched: () => false, close: async () => {} };
const say = (line: string) => {
  process.stderr.write(`demo: ${line}\n`);
  live.publish({ kind: 'line', text: `demo: ${line}` });
};
/** What stops the demo (and takes the lab down): Ctrl-C, `kill`, a closed terminal. */
const stopSignals: readonly StopSignal[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

/** scripts/bootstrap.sh: idempotent, seconds when everything is there. */
function bootstrap(args: string[]): void {
  const run = spawnSync('bash', [join(root, 'scripts/bootstrap.sh'), ...args], { cwd: root, stdio: ['ignore', 'inherit', 'inherit'] });
  if (run.status !== 0) throw new LabError('LAB_ERR_CONFIG', `${['scripts/bootstrap.sh', ...args].join(' ')} failed (status ${run.status})`);
}

/** Starts the chosen lab; `tearDown` undoes whatever of it exists, also when called from a signal handler. */
async function startLab(backend: LabBackend): Promise<{ lab: Lab; tearDown: () => void; compose?: ComposeProject }> {
  if (backend === 'containers') {
    bootstrap([]); // Docker, the lab image and the multicast rule
    const compose = new ComposeProject(root, 'tcp-udp-lab-demo');
    say(`starting tcp-server, udp-relay and a client container on an internal network (${compose.commandLine})`);
    const tearDown = () => compose.down();
    try {
      return { lab: await compose.start(), tearDown, compose };
    } catch (error) {
      tearDown();
      throw error;
    }
  }
  if (backend === 'namespaces') {
    bootstrap(['--local']); // iptables, which a fresh Debian lacks
    say('starting tcp-server, udp-relay and the client host in network namespaces joined by a bridge');
    return { lab: await startNetnsLab(root), tearDown: removeNetnsLab };
  }
  if (backend === 'uml') {
    // Inside the guest: the host's bootstrap installed what it needs (the guest's root is the host's, read-only).
    say('starting tcp-server, udp-relay and the client host in network namespaces inside the user-mode Linux kernel');
    return { lab: await startNetnsLab(root, umlLabTraits()), tearDown: removeNetnsLab };
  }
  say('starting tcp-server and udp-relay as local processes on 127.0.0.1');
  return { lab: await startLoopbackLab(root), tearDown: () => {} };
}

/** What of the sweep only netem can do, over all its steps: empty when iptables random drop suffices. */
function netemWords(plan: SweepPlan): string[] {
  return [...new Set(plan.steps.flatMap((step) => netemOnly(step.profile)))];
}

type DemoOptions = ReturnType<typeof parseCommandLine<typeof sweepOptions>> extends infer P ? (P extends { values: infer V } ? V : never) : never;

/**
 * The uml lab, from the host: the bootstrap installs the user-mode kernel where it is missing, then the
 * demo runs inside it with every option written out (the guest sees none of this process's environment),
 * and Ctrl-C, SIGTERM or SIGHUP stop the guest at once.
 */
async function runInUml(options: DemoOptions & { rate: number }, plan: SweepPlan): Promise<number> {
  bootstrap(['--uml']);
  const args = [
    '--sweep', plan.text,
    '--profile', formatProfile(plan.profile),
    '--direction', options.direction,
    '--file-bytes', String(options.fileBytes),
    '--tcp-deadline-ms', String(options.tcpDeadlineMs),
    '--datagrams', String(options.datagrams),
    '--datagram-bytes', String(options.datagramBytes),
    '--rate', String(options.rate),
    '--receivers', String(options.receivers),
    '--modes', options.modes.join(','),
    ...(options.json ? ['--json'] : []),
    ...(options.logs ? ['--logs'] : []),
    ...(options.noUi ? ['--no-ui'] : []),
  ];
  // Generous: each step's TCP part (its deadline, or an hour), each mode's stream and drain, and a margin.
  const tcpMs = options.tcpDeadlineMs > 0 ? options.tcpDeadlineMs : 3_600_000;
  const udpMs = options.modes.length * ((1000 * options.datagrams) / options.rate + 60_000);
  const timeoutMs = 300_000 + plan.steps.length * (tcpMs + udpMs);
  const controller = new AbortController();
  let status: number | null = null;
  onStopSignal(stopSignals, (signal) => {
    status = signalStatus(signal);
    say(`${signal}: stopping the user-mode Linux guest`);
    live.publish({ kind: 'stopped', reason: `${signal}: the user-mode Linux guest was stopped` });
    controller.abort();
  });
  const exit = await runUmlLab({ script: 'scripts/demo.ts', name: 'demo', outputs: /^sweep-[\w.-]+\.(json|svg|html|pcapng)$/, root, out: resolve(root, options.out), args, timeoutMs, say, signal: controller.signal, onLive: (event) => live.publish(event), watched: () => live.watched() });
  return status ?? exit;
}

runMain(
  'demo',
  async () => {
    const parsed = parseCommandLine(sweepOptions, {
      usage: 'npm run demo -- [options]',
      description:
        'Starts the lab (tcp-server, udp-relay, client) and, for each step of the sweep (packet loss from 0 to 30% unless --sweep says\n' +
        'otherwise), impairs the servers and runs the client\'s experiment: a file up and down over TCP, numbered datagrams through the\n' +
        'relay over UDP in each mode. Prints a TCP | UDP block per step, with what netem should give beside what was measured, and a\n' +
        'summary; writes sweep-<time>.json, .svg and .html into --out. Exit status: 0 ok, 1 a step failed, 2 bad options, 3 an\n' +
        'impairment this kernel or lab cannot apply; 130, 143 or 129 after Ctrl-C, SIGTERM or SIGHUP, with the lab taken down.',
    });
    if (!parsed) return 0;
    const options = parsed.values;
    const plan = planFromOptions(options);
    const guest = inUmlGuest();
    const { backend, why } = guest ? { backend: 'uml' as const, why: 'inside the guest' } : chooseLab(options.lab, netemWords(plan));
    if (!guest) say(`lab: ${backend} (${why})`);
    live = await openLive(options.noUi ? 'none' : guest ? 'guest' : 'serve', options.uiPort, say);
    try {
      return await runDemo(options, plan, backend, guest);
    } catch (error) {
      live.publish({ kind: 'stopped', reason: error instanceof Error ? error.message : String(error) });
      throw error;
    } finally {
      await live.close();
    }
  },
  (code) => (code === 'LAB_ERR_CONFIG' || code === 'LAB_ERR_BAD_PROFILE' ? 2 : code === 'LAB_ERR_IMPAIRMENT_UNSUPPORTED' || code === 'LAB_ERR_IMPAIRMENT_MISMATCH' ? 3 : 1),
);

/** The demo once its options are read and its live page open: the lab, the sweep, the files. */
async function runDemo(options: DemoOptions, plan: SweepPlan, backend: LabBackend, guest: boolean): Promise<number> {
  const rate = options.rate ?? (backend === 'uml' ? DEFAULT_RATE.uml : DEFAULT_RATE.host);
  if (backend === 'uml' && !guest) return runInUml({ ...options, rate }, plan);
  const started = await startLab(backend);
  const { lab, tearDown } = started;
  live.publish(sweepStarted(`sweep of ${plan.text}`, `${lab.backend}: ${lab.description}`, plan.steps.map((step) => `${plan.dimension} ${step.label}`)));
  // Ctrl-C, `kill`, a closed terminal: the lab comes down, and the status says which signal (128 + its number).
  onStopSignal(stopSignals, (signal) => {
    say(`${signal}: taking the lab down`);
    live.publish({ kind: 'stopped', reason: `${signal}: the lab was taken down` });
    void lab.close().finally(() => {
      tearDown();
      process.exit(signalStatus(signal));
    });
  });
  try {
    const liveMs = () => (live.watched() ? LIVE_SAMPLE_MS[backend === 'uml' ? 'uml' : 'host'] : 0);
    // Every file of the run shares one name: sweep-<time>.json, .svg, .html and -step-<n>.pcapng.
    const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
    const dir = resolve(root, options.out);
    mkdirSync(dir, { recursive: true });
    const base = join(dir, `sweep-${stamp}`);
    const captureFile = (step: number | 'calibration') => (step === 'calibration' ? `${base}-calibration.pcapng` : `${base}-step-${step + 1}.pcapng`);
    const result = await runSweep(lab, { ...options, rate, plan, liveMs, captureFile }, say, (event) => live.publish(liveEventOf(event)));
    const table = formatSweep(result);
    const svg = await renderSweepSvg(result);
    const html = sweepHtml(result, svg, table);
    writeFileSync(`${base}.json`, `${JSON.stringify(result, null, 2)}\n`);
    writeFileSync(`${base}.svg`, svg);
    writeFileSync(`${base}.html`, html);
    live.publish(sweepEnded(result, html));
    process.stdout.write(options.json ? `${JSON.stringify(result)}\n` : `\n${table}`);
    const captures = result.steps.filter((step) => 'file' in step.capture).length;
    say(`wrote ${base}.json, ${base}.svg and ${base}.html${captures > 0 ? `, and a packet capture of each of ${captures} steps (${base}-step-N.pcapng)` : ''}`);
    return result.ok ? 0 : 1;
  } finally {
    await lab.close();
    if (options.logs) {
      say('what the servers logged (socket lifecycle, then shutdown on SIGTERM):');
      const logs = started.compose ? started.compose.stopAndReadLogs() : `${lab.serverLogs?.() ?? ''}\n`;
      // With --json, stdout holds the JSON result and nothing else.
      (options.json ? process.stderr : process.stdout).write(logs);
    }
    say('taking the lab down');
    tearDown();
  }
}
