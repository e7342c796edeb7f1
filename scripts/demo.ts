#!/usr/bin/env node
// `npm run demo`: brings the lab up (after scripts/bootstrap.sh built the image), runs the client's
// experiment in its own container, prints the servers' lifecycle logs and the report, and tears the lab
// down again, also on failure or Ctrl-C, so no container or network is left behind.
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { composeCommand } from './compose-command.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const project = 'tcp-udp-lab-demo';
const [bin, ...baseArgs] = composeCommand();

function compose(args: string[], stdio: 'inherit' | 'pipe' = 'inherit'): number {
  const result = spawnSync(bin!, [...baseArgs, '-p', project, ...args], { cwd: root, stdio, encoding: 'utf8' });
  if (result.error) throw result.error;
  return result.status ?? 1;
}

function tearDown(): void {
  process.stderr.write('demo: tearing the lab down\n');
  compose(['down', '--volumes', '--remove-orphans', '--timeout', '10'], 'pipe');
}

let status = 1;
process.on('SIGINT', () => {
  tearDown();
  process.exit(130);
});
try {
  process.stderr.write(`demo: starting tcp-server and udp-relay on the internal network (${[bin, ...baseArgs].join(" ")})\n`);
  if (compose(['up', '--detach', '--no-build', 'tcp-server', 'udp-relay']) !== 0) throw new Error('the servers did not start');
  process.stderr.write('demo: running the experiment in the client container\n\n');
  // -T: no pseudo-terminal, so that the exit status and output are the same in CI and on a terminal.
  status = compose(['run', '--rm', '-T', 'client']);
  // SIGTERM first, so the logs end with each server's clean shutdown and the relay's final counters.
  compose(['stop', '--timeout', '10'], 'pipe');
  process.stderr.write('\ndemo: what the servers logged (socket lifecycle, then shutdown on SIGTERM):\n');
  compose(['logs', '--no-color', 'tcp-server', 'udp-relay']);
} catch (error) {
  process.stderr.write(`demo: ${(error as Error).message}\n`);
} finally {
  tearDown();
}
process.stderr.write(status === 0 ? 'demo: done\n' : `demo: FAILED (client exit status ${status})\n`);
process.exitCode = status;
