import { setTimeout as sleep } from 'node:timers/promises';
import { formatEndpoint, LabError } from '@lab/protocol';
import { createLogger, type OptionValues } from '@lab/runtime';
import type { experimentOptions } from './config.ts';
import type { ExperimentReport, PartFailure } from '@lab/results';
import { LiveReporter } from './live-reporter.ts';
import { formatReport } from './report.ts';
import { runTcpExperiment } from './tcp-experiment.ts';
import { runUdpExperiment } from './udp-experiment.ts';
import { runChatExperiment } from './chat-experiment.ts';

function failure(error: unknown): PartFailure {
  return error instanceof LabError ? { code: error.code, message: error.message } : { code: 'UNEXPECTED', message: String(error) };
}

/** How long the TCP chat's listener may take to get every line after the last was sent: it resends until then. */
const CHAT_TCP_WAIT_MS = 10_000;

/** `client experiment`: the TCP half, then the UDP half, then the chat contrast, then the side-by-side report. */
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
  const chat =
    config.chatLines === 0
      ? null
      : await runChatExperiment({
          endpoint: config.server,
          relayHost: config.relay,
          relayPort: config.relayPort,
          room: config.room + config.modes.length,
          lines: config.chatLines,
          intervalMs: config.chatIntervalMs,
          drainMs: config.drainMs,
          tcpWaitMs: CHAT_TCP_WAIT_MS,
          connectTimeoutMs: config.connectTimeoutMs,
          log,
          live,
        }).catch((error: unknown) => ({ error: failure(error) }));
  const ok = !('error' in tcp) && tcp.identical && !('error' in udp) && !(chat && 'error' in chat);
  const report: ExperimentReport = { schema: 'tcp-udp-lab/experiment', version: 1, ok, tcp, udp, chat };
  process.stdout.write(
    config.json ? `${JSON.stringify(report)}\n` : formatReport(report, { tcp: formatEndpoint(config.server), udp: `${config.relay}:${config.relayPort}` }),
  );
  return ok ? 0 : 1;
}
