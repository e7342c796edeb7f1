#!/usr/bin/env node
// `npm run check:accuracy`: the lab's UDP stream beside iperf3 -u under the same netem profiles, in the
// same lab (network namespaces on a kernel with netem; inside a user-mode Linux kernel that has it where
// this one has not), each with what netem's algorithm expects and how evenly each sender paced, from a
// capture. Before trusting a timing figure of the lab, compare it with iperf3's on the same path.
import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LabError } from '@lab/protocol';
import { onStopSignal, optionArgs, parseCommandLine, runMain, signalStatus } from '@lab/runtime';
import { checkAccuracy } from '../lab/accuracy/accuracy-run.ts';
import { accuracyOptions } from '../lab/accuracy/accuracy-options.ts';
import { formatAccuracy } from '../lab/accuracy/accuracy-table.ts';
import { chooseLab } from '../lab/choose-lab.ts';
import { removeNetnsLab, startNetnsLab } from '../lab/netns-lab.ts';
import { inUmlGuest, runUmlLab, umlLabTraits } from '../lab/uml-lab.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const say = (line: string) => process.stderr.write(`accuracy: ${line}\n`);

function bootstrap(args: string[]): void {
  const run = spawnSync('bash', [join(root, 'scripts/bootstrap.sh'), ...args], { cwd: root, stdio: ['ignore', 'inherit', 'inherit'] });
  if (run.status !== 0) throw new LabError('LAB_ERR_CONFIG', `${['scripts/bootstrap.sh', ...args].join(' ')} failed (status ${run.status})`);
}

runMain(
  'accuracy',
  async () => {
    const parsed = parseCommandLine(accuracyOptions, {
      usage: 'npm run check:accuracy -- [options]',
      description:
        'First with nothing impaired (each tool\'s own part on this lab: the calibration), then for each netem profile on the relay host\'s\n' +
        'way in: iperf3 -u from the client host to the relay host, then the lab\'s own stream (`client experiment`, one receiver, unicast)\n' +
        'through the relay, at the same rate and datagram size, both captured on the client\'s interface. Prints each tool\'s lost,\n' +
        'duplicated, out of order and jitter beside what netem\'s algorithm expects for that tool\'s counting (iperf3 counts a second copy as\n' +
        'out of order) with the tool\'s own part added, a verdict for each (inside its 99% band, outside it, or the tool\'s own), and the\n' +
        'gaps between sends from the capture. Exit status: 0 no figure outside its band, 1 one outside, 2 bad options, 3 no netem to be had.',
    });
    if (!parsed) return 0;
    const options = parsed.values;
    const out = resolve(root, options.out);
    const shape = { datagrams: options.datagrams, datagramBytes: options.datagramBytes, rate: options.rate };
    if (!inUmlGuest()) {
      const { backend, why } = options.lab === 'auto' ? chooseLab('auto', ['the accuracy check (delay, reordering, duplication)']) : chooseLab(options.lab);
      say(`lab: ${backend} (${why})`);
      if (backend === 'uml') {
        bootstrap(['--uml', '--iperf3']);
        const controller = new AbortController();
        let stopped: number | null = null;
        onStopSignal(['SIGINT', 'SIGTERM', 'SIGHUP'], (signal) => {
          stopped = signalStatus(signal);
          controller.abort();
        });
        const perProfileMs = (2 * 1000 * options.datagrams) / options.rate + 120_000;
        const exit = await runUmlLab({
          script: 'scripts/check-accuracy.ts',
          name: 'accuracy',
          outputs: /^accuracy-[\w.-]+\.(pcapng|json)$/,
          root,
          out,
          args: optionArgs(accuracyOptions, process.argv.slice(2), process.env, ['lab', 'out']),
          timeoutMs: 300_000 + options.profiles.length * perProfileMs,
          say,
          signal: controller.signal,
        });
        return stopped ?? exit;
      }
      if (backend !== 'namespaces') throw new LabError('LAB_ERR_CONFIG', `the accuracy check runs in network namespaces or a user-mode Linux kernel, not in ${backend}`);
      bootstrap(['--local', '--iperf3']);
    }
    const lab = await startNetnsLab(root, inUmlGuest() ? umlLabTraits() : undefined);
    onStopSignal(['SIGINT', 'SIGTERM', 'SIGHUP'], (signal) => {
      void lab.close().finally(() => {
        removeNetnsLab();
        process.exit(signalStatus(signal));
      });
    });
    try {
      say(`lab: ${lab.backend}: ${lab.description}`);
      mkdirSync(out, { recursive: true });
      const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
      const report = await checkAccuracy(lab, options.profiles, shape, (index) => join(out, index === 0 ? `accuracy-${stamp}-calibration.pcapng` : `accuracy-${stamp}-${index}.pcapng`), say);
      const { text, outside } = formatAccuracy(report, shape);
      process.stdout.write(options.json ? `${JSON.stringify({ shape, ...report, outside })}\n` : text);
      return outside.length === 0 ? 0 : 1;
    } finally {
      await lab.close();
      removeNetnsLab();
    }
  },
  (code) => (code === 'LAB_ERR_CONFIG' || code === 'LAB_ERR_BAD_PROFILE' ? 2 : code === 'LAB_ERR_IMPAIRMENT_UNSUPPORTED' ? 3 : 1),
);
