import { expectUdp, formatProfile, Impairer, movesInTime, type Exec, type ImpairmentProfile, type UdpExpectation } from '@lab/impairment';
import { writeFileSync } from 'node:fs';
import { LabError } from '@lab/protocol';
import { experimentReportSchema, type UdpReceiverResult } from '@lab/results';
import { readCapture } from '../capture/tshark.ts';
import { jsonLines } from '../json-lines.ts';
import type { Lab } from '../lab.ts';
import { drainFor } from '../step-analysis.ts';
import { iperf3UdpFigures, type Iperf3UdpFigures } from './iperf3-udp.ts';
import { sendGaps, type SendGaps } from '../capture/send-gaps.ts';

/**
 * The lab's UDP stream beside iperf3's, under one netem profile in one lab: the same path (client host,
 * the relay host's way in, where the profile is), the same datagram size and rate, one after the other,
 * both captured on the client's interface. What netem's own algorithm predicts for each is put beside
 * it, each counted as that tool counts (path-model.ts, `counting`), and how evenly each sender paced its
 * datagrams is read from the capture.
 */
export interface AccuracyShape {
  datagrams: number;
  /** UDP payload bytes per datagram (the lab's 32-byte header included; iperf3's -l). */
  datagramBytes: number;
  rate: number;
}

export interface AccuracyOutcome {
  profile: string;
  /** Does the profile move datagrams in time (delay with jitter, reorder, rate)? Then a sender's bursts can be reordered. */
  movesInTime: boolean;
  /** What the relay host's kernel holds (tc qdisc show), read back. */
  installed: string;
  iperf3: { figures: Iperf3UdpFigures; expected: UdpExpectation; gaps: SendGaps | null } | { problem: string };
  lab: { figures: UdpReceiverResult; expected: UdpExpectation; gaps: SendGaps | null } | { problem: string };
  captureFile: string | null;
}

const IPERF3_PORT = 5201;
const RELAY_PORT = 9001;
/** The lab's lateness threshold (the client's --late-ms default, as the sweep uses). */
const LATE_MS = 50;

const message = (error: unknown) => (error instanceof Error ? error.message : String(error));

/** The IPv4 address of a host's lab interface (eth0), asked of the host itself. */
async function addressOf(exec: Exec): Promise<string> {
  const run = await exec(['ip', '-4', '-o', 'addr', 'show', 'dev', 'eth0']);
  const address = /\binet (\d+\.\d+\.\d+\.\d+)\//.exec(run.output)?.[1];
  if (!address) throw new LabError('LAB_ERR_CONFIG', `cannot read the host's address on eth0: ${run.output.slice(0, 300)}`);
  return address;
}

/**
 * iperf3 -u from the client host to a one-off server on the relay host, at the stream's rate and size.
 * Its whole report is kept in `reportFile` (what iperf3 said, for anyone who doubts the reading of it).
 */
async function runIperf3(lab: Lab, relay: string, shape: AccuracyShape, reportFile: string): Promise<Iperf3UdpFigures | { problem: string }> {
  const hosts = lab.hosts!;
  // Each side under a time limit (timeout(1)): iperf3 has been seen to wait forever at the end of a test
  // in the user-mode Linux guest, and a check that hangs says nothing.
  const limit = String(Math.ceil(shape.datagrams / shape.rate) + 60);
  const server = hosts.udpRelay.exec(['timeout', '-k', '5', limit, 'iperf3', '-s', '-1', '-J', '-p', String(IPERF3_PORT)]);
  // The server says nothing machine-readable when it is ready: wait until its port listens.
  for (let i = 0; ; i++) {
    const listening = await hosts.udpRelay.exec(['ss', '-Hltn', `sport = :${IPERF3_PORT}`]);
    if (listening.output.trim() !== '') break;
    if (i === 100) return { problem: `iperf3 -s did not listen on the relay host within 10 s: ${(await Promise.race([server, Promise.resolve({ output: '' })])).output}` };
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  // -b is iperf3's payload bits per second: rate × bytes × 8; -k the number of datagrams.
  const bits = Math.round(shape.rate * shape.datagramBytes * 8);
  const client = await hosts.client.exec(['timeout', '-k', '5', limit, 'iperf3', '-c', relay, '-p', String(IPERF3_PORT), '-u', '-b', String(bits), '-l', String(shape.datagramBytes), '-k', String(shape.datagrams), '-J', '--get-server-output']);
  const served = await server;
  if (client.code === 124 || served.code === 124) return { problem: `iperf3 did not finish within ${limit} s (the ${client.code === 124 ? 'client' : 'server'} was stopped)` };
  let json: unknown;
  const report = client.output.slice(client.output.indexOf('{'));
  try {
    json = JSON.parse(report);
  } catch {
    return { problem: `iperf3 -c printed no JSON (status ${client.code}): ${client.output.slice(-500)}` };
  }
  writeFileSync(reportFile, report);
  return iperf3UdpFigures(json);
}

/** The lab's own stream: `client experiment` with one receiver in unicast mode, a small file, no chat. */
async function runLabStream(lab: Lab, shape: AccuracyShape, room: number, drainMs: number): Promise<UdpReceiverResult | { problem: string }> {
  const run = await lab.runClient([
    'experiment',
    '--json',
    `--room=${room}`,
    '--file-bytes=65536',
    `--datagrams=${shape.datagrams}`,
    `--datagram-bytes=${shape.datagramBytes}`,
    `--rate=${shape.rate}`,
    '--receivers=1',
    '--modes=unicast',
    `--drain-ms=${drainMs}`,
    `--late-ms=${LATE_MS}`,
    '--settle-ms=500',
    '--chat-lines=0',
  ]);
  const parsed = experimentReportSchema.safeParse(jsonLines(run.stdout).find((line) => line.schema === 'tcp-udp-lab/experiment'));
  if (!parsed.success) return { problem: `the client printed no result (status ${run.code}): ${run.output.slice(-500)}` };
  const { udp } = parsed.data;
  if ('error' in udp) return { problem: `${udp.error.code}: ${udp.error.message}` };
  const receiver = udp.modes[0]?.receivers[0];
  return receiver ?? { problem: 'the client measured no receiver' };
}

/** The calibration (both tools with nothing impaired: each one's own part) and each profile's outcome. */
export interface AccuracyReport {
  calibration: AccuracyOutcome;
  outcomes: AccuracyOutcome[];
}

/**
 * Runs both tools with nothing impaired first (each one's own jitter, reordering and loss on this lab:
 * the calibration), then every profile in turn on `lab` (its relay host impaired on the way in), each
 * captured into `captureFile(i)` (0: the calibration).
 */
export async function checkAccuracy(
  lab: Lab,
  profiles: readonly ImpairmentProfile[],
  shape: AccuracyShape,
  captureFile: (index: number) => string,
  progress: (line: string) => void,
): Promise<AccuracyReport> {
  if (!lab.hosts) throw new LabError('LAB_ERR_IMPAIRMENT_UNSUPPORTED', `the ${lab.backend} lab cannot impair its network`);
  const impairer = await Impairer.create([lab.hosts.udpRelay], { direction: 'in' });
  if (impairer.backend !== 'netem') throw new LabError('LAB_ERR_IMPAIRMENT_UNSUPPORTED', `the accuracy check needs tc netem, which this kernel does not have (${impairer.reason})`);
  for (const profile of profiles) impairer.check(profile);
  const relay = await addressOf(lab.hosts.udpRelay.exec);
  // One connection before the first profile: ARP is learnt now, not inside the first measurement.
  await impairer.apply({});
  await lab.runClient(['list']).catch(() => {});
  const outcomes: AccuracyOutcome[] = [];
  try {
    for (const [index, profile] of [{}, ...profiles].entries()) {
      const text = formatProfile(profile);
      const what = index === 0 ? 'calibration, nothing impaired' : `profile ${index}/${profiles.length}: ${text}`;
      progress(`${what}: iperf3 -u, then the lab's stream, ${shape.datagrams} datagrams of ${shape.datagramBytes} B at ${shape.rate}/s each`);
      await impairer.apply(profile);
      const installed = Object.values(await impairer.readBack()).join('\n');
      const drainMs = drainFor(profile, 'in', shape.datagramBytes);
      const file = captureFile(index);
      const capture = 'unavailable' in lab.capture ? null : await lab.capture.start(file).catch((error: unknown) => (progress(`no capture: ${message(error)}`), null));
      const tryIperf3 = (attempt: string) => runIperf3(lab, relay, shape, file.replace(/\.pcapng$/, `-iperf3${attempt}.json`)).catch((error: unknown) => ({ problem: message(error) }));
      // iperf3 itself fails now and then (its control connection crosses the impaired path too): once more.
      let iperf3 = await tryIperf3('');
      if ('problem' in iperf3) {
        progress(`iperf3 failed (${iperf3.problem}); once more`);
        const again = await tryIperf3('-2');
        iperf3 = 'problem' in again ? { problem: `${iperf3.problem}; and again: ${again.problem}` } : again;
      }
      const labStream = await runLabStream(lab, shape, 1 + index, drainMs).catch((error: unknown) => ({ problem: message(error) }));
      const captured = capture ? await capture.stop().catch(() => null) : null;
      const departures = captured ? await readCapture(captured.file).catch(() => []) : [];
      // Data datagrams leaving the client for the relay: iperf3's to its port, the lab's to the relay's.
      const leaving = (port: number) => departures.filter((frame) => frame.dst === relay && frame.udp?.dstPort === port && frame.udp.bytes === shape.datagramBytes).map((frame) => frame.ms / 1000);
      const path = { profile, direction: 'in' as const, mode: 'unicast' as const, receivers: 1, rate: shape.rate, datagramBytes: shape.datagramBytes, drainMs, lateMs: LATE_MS };
      outcomes.push({
        profile: text,
        movesInTime: movesInTime(profile),
        installed,
        iperf3: 'problem' in iperf3 ? iperf3 : { figures: iperf3, expected: expectUdp({ ...path, datagrams: iperf3.sent, counting: 'iperf3' }), gaps: sendGaps(leaving(IPERF3_PORT), shape.rate) },
        lab: 'problem' in labStream ? labStream : { figures: labStream, expected: expectUdp({ ...path, datagrams: labStream.sent }), gaps: sendGaps(leaving(RELAY_PORT), shape.rate) },
        captureFile: captured?.file ?? null,
      });
    }
  } finally {
    await impairer.apply({}).catch(() => {});
  }
  return { calibration: outcomes[0]!, outcomes: outcomes.slice(1) };
}
