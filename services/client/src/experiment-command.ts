import { setTimeout as sleep } from 'node:timers/promises';
import { formatEndpoint, LabError } from '@lab/protocol';
import { createLogger, type OptionValues } from '@lab/runtime';
import type { experimentOptions } from './config.ts';
import type { ExperimentReport, PartFailure } from '@lab/results';
import { LiveReporter } from './live-reporter.ts';
import { formatReport } from './report.ts';
import { runTcpExperiment } from './tcp-experiment.ts';
import { runUdpExperiment } from './udp-experiment.ts';

function failure(error: unknown): PartFailure {
  return error instanceof LabError ? { code: error.code, message: error.message } : { code: 'UNEXPECTED', message: String(error) };
}

/** `client experiment`: the TCP half, then the UDP half, then the side-by-side report. */
export async function experiment(config: OptionValues<typeof experimentOptions>): Promise<number> {
  // Logs go to stderr so that stdout carries only the report (or the JSON).
  const log = createLogger('client', config, process.stderr);
  const live = new LiveReporter(config.liveMs);
  const tcp = await runTcpExperiment({
    endpoint: config.server,
    fileBytes: config.fileBytes,
    connectTimeoutMs: config.connectTimeoutMs,
    deadlineMs: config.tcpDeadlineMs,
    log,
    live,
  }).catch((error: unknown) => ({ error: failure(error) }));
  // The server may still be writing, hashing and closing what it received: let that not fall into the
  // stream's timing (on a one-CPU lab it would show as late datagrams).
  if (config.settleMs > 0) await sleep(config.settleMs);
  const udp = await runUdpExperiment({
    relayHost: config.relay,
    relayPort: config.relayPort,
    room: config.room,
    receivers: config.receivers,
    datagrams: config.datagrams,
    datagramBytes: config.datagramBytes,
    rate: config.rate,
    drainMs: config.drainMs,
    modes: config.modes,
    lateMs: config.lateMs,
    receiveBufferBytes: config.receiveBufferBytes,
    joinTimeoutMs: config.connectTimeoutMs,
    log,
    live,
  }).catch((error: unknown) => ({ error: failure(error) }));
  const ok = !('error' in tcp) && tcp.identical && !('error' in udp);
  const report: ExperimentReport = { schema: 'tcp-udp-lab/experiment', version: 1, ok, tcp, udp };
  process.stdout.write(
    config.json ? `${JSON.stringify(report)}\n` : formatReport(report, { tcp: formatEndpoint(config.server), udp: `${config.relay}:${config.relayPort}` }),
  );
  return ok ? 0 : 1;
}
