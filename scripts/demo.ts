#!/usr/bin/env node
// `npm run demo`: the contrast experiment. Brings the lab up (after scripts/bootstrap.sh built the
// image), sweeps packet loss over the servers' links, prints a block per step and a summary, writes the
// JSON result, an SVG chart and an HTML page, and tears the lab down again, also on failure or Ctrl-C.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseCommandLine, runMain } from '@lab/runtime';
import { ComposeProject } from '../lab/compose-lab.ts';
import { renderSweepSvg, sweepHtml } from '../lab/sweep-chart.ts';
import { sweepOptions } from '../lab/sweep-options.ts';
import { formatSweep } from '../lab/sweep-table.ts';
import { runSweep } from '../lab/sweep.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const say = (line: string) => process.stderr.write(`demo: ${line}\n`);

runMain(
  'demo',
  async () => {
    const parsed = parseCommandLine(sweepOptions, {
      usage: 'npm run demo -- [options]',
      description:
        'Starts the lab (tcp-server, udp-relay, client) on an internal Docker network and, for each loss step, impairs the servers\n' +
        "and runs the client's experiment: a file up and down over TCP, numbered datagrams through the relay over UDP in each mode.\n" +
        'Prints a TCP | UDP block per step and a summary; writes sweep-<time>.json, .svg and .html into --out.',
    });
    if (!parsed) return 0;
    const options = parsed.values;
    const compose = new ComposeProject(root, 'tcp-udp-lab-demo');
    let stopping = false;
    process.on('SIGINT', () => {
      if (stopping) return;
      stopping = true;
      say('interrupted: tearing the lab down');
      compose.down();
      process.exit(130);
    });
    say(`starting tcp-server, udp-relay and a client container on an internal network (${compose.commandLine})`);
    try {
      const lab = await compose.start();
      try {
        const result = await runSweep(lab, { ...options, lossPercents: options.loss, extraProfile: options.profile }, say);
        const table = formatSweep(result);
        const stamp = result.startedAt.replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
        const dir = resolve(root, options.out);
        mkdirSync(dir, { recursive: true });
        const base = join(dir, `sweep-${stamp}`);
        const svg = await renderSweepSvg(result);
        writeFileSync(`${base}.json`, `${JSON.stringify(result, null, 2)}\n`);
        writeFileSync(`${base}.svg`, svg);
        writeFileSync(`${base}.html`, sweepHtml(result, svg, table));
        process.stdout.write(options.json ? `${JSON.stringify(result)}\n` : `\n${table}`);
        say(`wrote ${base}.json, ${base}.svg and ${base}.html`);
        return result.ok ? 0 : 1;
      } finally {
        await lab.close();
        if (options.logs) {
          say("what the servers logged (socket lifecycle, then shutdown on SIGTERM):");
          compose.stopAndShowLogs();
        }
      }
    } finally {
      say('tearing the lab down');
      compose.down();
    }
  },
  (code) => (code === 'LAB_ERR_CONFIG' ? 2 : code === 'LAB_ERR_IMPAIRMENT_UNSUPPORTED' ? 3 : 1),
);
