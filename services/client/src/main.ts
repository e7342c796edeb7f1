#!/usr/bin/env node
import { LabError } from '@lab/protocol';
import { createLogger, parseCommandLine, runMain, type OptionValues } from '@lab/runtime';
import { experimentOptions } from './config.ts';
import { formatReport, type ExperimentReport, type PartFailure } from './report.ts';
import { runTcpExperiment } from './tcp-experiment.ts';
import { runUdpExperiment } from './udp-experiment.ts';

const commands = {
  experiment: 'upload and download a file over TCP, stream numbered datagrams through the UDP relay, print both',
} as const;

const usage = 'node services/client/src/main.ts [experiment] [options]';
const description = [
  'The lab client. Commands:',
  ...Object.entries(commands).map(([name, text]) => `  ${name.padEnd(12)}${text} (default)`),
  '',
  'Exit status: 0 when every part ran and the TCP copy is identical, 1 when a part failed, 2 for bad options.',
  'UDP loss is a measurement, not a failure.',
].join('\n');

function failure(error: unknown): PartFailure {
  return error instanceof LabError ? { code: error.code, message: error.message } : { code: 'UNEXPECTED', message: String(error) };
}

async function experiment(config: OptionValues<typeof experimentOptions>): Promise<number> {
  // Logs go to stderr so that stdout carries only the report (or the JSON).
  const log = createLogger('client', config, process.stderr);
  const tcp = await runTcpExperiment({
    host: config.tcpHost,
    port: config.tcpPort,
    fileBytes: config.fileBytes,
    connectTimeoutMs: config.connectTimeoutMs,
    log,
  }).catch((error: unknown) => ({ error: failure(error) }));
  const udp = await runUdpExperiment({
    relayHost: config.relayHost,
    relayPort: config.relayPort,
    room: config.room,
    receivers: config.receivers,
    datagrams: config.datagrams,
    datagramBytes: config.datagramBytes,
    rate: config.rate,
    drainMs: config.drainMs,
    joinTimeoutMs: config.connectTimeoutMs,
    log,
  }).catch((error: unknown) => ({ error: failure(error) }));
  const ok = !('error' in tcp) && tcp.identical && !('error' in udp);
  const report: ExperimentReport = { schema: 'tcp-udp-lab/experiment', version: 1, ok, tcp, udp };
  process.stdout.write(
    config.json
      ? `${JSON.stringify(report)}\n`
      : formatReport(report, { tcp: `${config.tcpHost}:${config.tcpPort}`, udp: `${config.relayHost}:${config.relayPort}` }),
  );
  return ok ? 0 : 1;
}

async function main(): Promise<number> {
  const cli = parseCommandLine(experimentOptions, { usage, description, allowPositionals: true });
  if (!cli) return 0;
  const [command = 'experiment', ...rest] = cli.positionals;
  if (!Object.hasOwn(commands, command) || rest.length > 0) {
    throw new LabError('LAB_ERR_CONFIG', `unknown command ${JSON.stringify([command, ...rest].join(' '))} (see --help)`);
  }
  return experiment(cli.values);
}

runMain('client', main);
