import { effectiveProfile, formatProfile, hopsThrough, Impairer, useSegmentSizedPackets, type Direction, type ImpairedHost, type ImpairmentProfile } from '@lab/impairment';
import { LabError, type DeliveryMode } from '@lab/protocol';
import { parseTcpSnmp } from '@lab/host-counters';
import { jsonLines, prefixedJson } from './json-lines.ts';
import { impairedHosts, type Lab } from './lab.ts';
import { addedRttMs, analyseTcp, analyseUdp, drainFor, labOwnFrom, linkFigures, stepOk, type LabOwn, type StepContext } from './step-analysis.ts';
import { deliveredPercent } from './sweep-outcome.ts';
import { dimensionUnits, type SweepPlan } from './sweep-plan.ts';
import { startStepCapture, type StepCapture, type StepCaptureResult } from './capture/step-capture.ts';
import { sweepOutside } from './sweep-outside.ts';
import {
  experimentReportSchema,
  LIVE_SAMPLE_PREFIX,
  liveSampleSchema,
  sweepResultSchema,
  type ExperimentReport,
  type LiveSample,
  type SweepCalibration,
  type SweepResult,
  type SweepStep,
  type UdpModeCheck,
} from '@lab/results';

export interface SweepSettings {
  /** The steps: what is swept, what holds at every step, and each step's whole profile (lab/sweep-plan.ts). */
  plan: SweepPlan;
  direction: Direction;
  fileBytes: number;
  datagrams: number;
  datagramBytes: number;
  rate: number;
  receivers: number;
  modes: DeliveryMode[];
  tcpDeadlineMs: number;
  /**
   * How often the client tells how its transfers and streams are going (the live page), asked at each
   * step (a page may come and go); 0 or absent: not at all.
   */
  liveMs?: () => number;
  /** Where step `index`'s packet capture goes, or the calibration's (a pcapng beside the result); absent: no capture. */
  captureFile?: (step: number | 'calibration') => string;
  /** Lines of the chat contrast per step (0: none); absent: the client's default (20). */
  chatLines?: number;
  /**
   * Measure the lab itself before the first step (the calibration, see calibrate); absent: yes. Only
   * tests that check netem's figures against the network's part alone leave it out, to save the time.
   */
  calibrate?: boolean;
}

export type Progress = (line: string) => void;

/** What a watcher is told as the sweep goes (the live page): a step begins, a step's report is in. */
export type SweepEvent =
  | { kind: 'step-start'; index: number; label: string; impairment: string; startedAt: number }
  | { kind: 'step-end'; index: number; durationMs: number; experiment: ExperimentReport; udp: UdpModeCheck[]; summary: string }
  | { kind: 'sample'; index: number; sample: LiveSample };

/** The client's default lateness threshold (services/client/src/config.ts, --late-ms). */
const LATE_MS = 50;
/** A pause between the TCP part and the UDP stream, so that the server's work on the file is done before the stream is timed. */
const SETTLE_MS = 500;

/** Segments the TCP server retransmitted so far (its /proc/net/snmp); null where it cannot be read. */
async function serverRetransmissions(host: ImpairedHost): Promise<number | null> {
  const run = await host.exec(['cat', '/proc/net/snmp']);
  return run.code === 0 ? (parseTcpSnmp(run.output)?.retransSegs ?? null) : null;
}

/**
 * The client's arguments for step `index`. Each step gets rooms of its own (the client numbers one per
 * mode from `--room`): a member of an earlier step whose leave was lost on the impaired path must not
 * be sent this step's stream.
 */
export function clientArgs(settings: SweepSettings, index: number, drainMs: number, calibration = false): string[] {
  const liveMs = calibration ? 0 : (settings.liveMs?.() ?? 0);
  const chatLines = calibration ? 0 : settings.chatLines;
  return [
    'experiment',
    '--json',
    // One room per mode, and one more for the chat (the client takes --room + the number of modes).
    `--room=${1 + index * (settings.modes.length + 1)}`,
    `--file-bytes=${settings.fileBytes}`,
    `--tcp-deadline-ms=${settings.tcpDeadlineMs}`,
    `--datagrams=${settings.datagrams}`,
    `--datagram-bytes=${settings.datagramBytes}`,
    `--rate=${settings.rate}`,
    `--receivers=${settings.receivers}`,
    `--modes=${settings.modes.join(',')}`,
    `--drain-ms=${drainMs}`,
    `--late-ms=${LATE_MS}`,
    `--settle-ms=${SETTLE_MS}`,
    ...(liveMs > 0 ? [`--live-ms=${liveMs}`] : []),
    ...(chatLines === undefined ? [] : [`--chat-lines=${chatLines}`]),
  ];
}

/** The client's report in its output, checked against the report's schema. */
function reportOf(run: { stdout: string; output: string; code: number }): ExperimentReport {
  const line = jsonLines(run.stdout).find((candidate) => candidate.schema === 'tcp-udp-lab/experiment');
  if (!line) throw new LabError('LAB_ERR_UNEXPECTED_MESSAGE', `the client printed no result (exit status ${run.code}): ${run.output.slice(-2000)}`);
  const parsed = experimentReportSchema.safeParse(line);
  if (!parsed.success) throw parsed.error;
  return parsed.data;
}

/**
 * The client's report of a run, and the capture around it: the capture stops whatever the client said
 * (the ladder finds the experiment's connection by its port, each stream's departures by its room); a
 * run without a report fails after that.
 */
async function reportAndCapture(run: { stdout: string; output: string; code: number }, capture: StepCapture | null): Promise<{ experiment: ExperimentReport; captured: StepCaptureResult }> {
  let experiment: ExperimentReport | undefined;
  let failure: unknown = null;
  try {
    experiment = reportOf(run);
  } catch (error) {
    failure = error;
  }
  const reported = experiment?.tcp;
  const captured: StepCaptureResult = capture
    ? await capture.finish(reported && !('error' in reported) ? reported.localPort : null, streamsOf(experiment))
    : { capture: { unavailable: 'no capture was asked for' }, pacing: [] };
  if (failure || !experiment) throw failure;
  return { experiment, captured };
}

/** The rooms and rate of a report's UDP streams, for the capture to find each one's departures. */
function streamsOf(report: ExperimentReport | undefined): { rate: number; rooms: { mode: UdpModeCheck['mode']; room: number }[] } | null {
  if (!report || 'error' in report.udp) return null;
  return { rate: report.udp.rate, rooms: report.udp.modes.map((mode) => ({ mode: mode.mode, room: mode.room })) };
}

/**
 * The calibration: the step's whole experiment (file and streams, no chat), with nothing impaired, in
 * rooms no step uses. What it measures is the lab's own part of every figure (lab/figure-verdict.ts).
 */
async function calibrate(lab: Lab, settings: SweepSettings, progress: Progress): Promise<SweepCalibration> {
  const started = performance.now();
  progress(`calibration: the lab measures itself first, nothing impaired, the same file and streams: its own part of every figure`);
  const index = settings.plan.steps.length;
  const capture = settings.captureFile ? await startStepCapture(lab.capture, settings.captureFile('calibration')) : null;
  const run = await lab.runClient(clientArgs(settings, index, drainFor(null, settings.direction, settings.datagramBytes), true));
  const { experiment, captured } = await reportAndCapture(run, capture);
  const calibration = { durationMs: performance.now() - started, experiment, capture: captured.capture, pacing: captured.pacing };
  progress(`calibration: done in ${(calibration.durationMs / 1000).toFixed(1)} s: ${ownWords(labOwnFrom(experiment))}`);
  return calibration;
}

/** The lab's own figures in a line of progress. */
function ownWords(own: LabOwn): string {
  const udp = Object.entries(own.udp).map(([mode, f]) => `${mode} jitter ${f.jitterMs.toFixed(3)} ms (up to ${f.jitterHighMs.toFixed(3)}), ${f.outOfOrder} reordered, ${f.late} late, ${f.lost} lost`);
  const tcp = own.tcp ? `TCP ${own.tcp.uploadMbitPerS.toFixed(1)} Mbit/s up, ${own.tcp.downloadMbitPerS.toFixed(1)} down` : 'TCP not measured';
  return `the lab's own: ${[...udp, tcp].join('; ')}`;
}

/**
 * The contrast experiment: for each step, impair the servers with the step's profile, check that the
 * kernel holds it, run the client's experiment (TCP file up and down, a UDP stream per mode), and put
 * what netem and the models expect beside the measurements. Every profile is checked against the backend
 * before the first step, so a profile the kernel cannot apply fails at once rather than after minutes.
 */
export async function runSweep(lab: Lab, requested: SweepSettings, progress: Progress, observe: (event: SweepEvent) => void = () => {}): Promise<SweepResult> {
  const startedAt = new Date().toISOString();
  const { settings, skipped } = fitToLab(lab, requested);
  for (const line of skipped) progress(`skipped: ${line}`);
  let impairer: Impairer | null = null;
  if (lab.hosts) {
    // Without this, a dropped "packet" on a veth is up to 64 KiB of TCP: see segmentSizedPacketSteps.
    await useSegmentSizedPackets([...impairedHosts(lab.hosts), lab.hosts.client]);
    impairer = await Impairer.create(impairedHosts(lab.hosts), { direction: settings.direction });
    progress(`impairment backend: ${impairer.backend} (${impairer.reason}); on ${impairer.describe({}).replace(/^none on /, '')}`);
  }
  const { steps: planned } = settings.plan;
  for (const step of planned) impairer?.check(step.profile);

  // One connection before the first step, unimpaired: the hosts learn each other's addresses (ARP) now,
  // not during the first step's handshake, whose RTT would then count an ARP exchange through the
  // profile's delay (seen: 19 ms for `delay 10ms`, 10 ms at every later step).
  await impairer?.apply({});
  await lab.runClient(['list']).catch(() => {});

  const udpPathHops = impairer ? hopsThrough(settings.direction) : 0;
  const tcpServer = lab.hosts?.tcpServer ?? null;
  // Only where something can be impaired: elsewhere every step is itself unimpaired, and all of it the lab's.
  const calibration = impairer && settings.calibrate !== false ? await calibrate(lab, settings, progress) : null;
  const labOwn = calibration ? labOwnFrom(calibration.experiment) : null;
  const contextOf = (applied: ImpairmentProfile | null, drainMs: number, link: StepContext['link']): StepContext => ({
    profile: applied,
    direction: settings.direction,
    link,
    datagrams: settings.datagrams,
    datagramBytes: settings.datagramBytes,
    rate: settings.rate,
    receivers: settings.receivers,
    drainMs,
    lateMs: LATE_MS,
    honestUdpRate: lab.honestUdpRate ?? null,
    labOwn,
  });
  const measured: (Omit<SweepStep, 'tcp'> & { applied: ImpairmentProfile | null })[] = [];
  const count = planned.length;
  try {
    for (const [index, planStep] of planned.entries()) {
      const applied = impairer ? planStep.profile : null;
      const what = `${settings.plan.dimension} ${planStep.label}`;
      const inForce = impairer ? impairer.describe(planStep.profile) : 'nothing: this lab cannot impair its network';
      progress(`step ${index + 1}/${count}: ${what}${impairer ? `: ${inForce}` : ' (this lab cannot impair its network)'}`);
      observe({ kind: 'step-start', index, label: what, impairment: inForce, startedAt: Date.now() });
      const started = performance.now();
      await impairer?.apply(planStep.profile);
      const installed = impairer ? await impairer.readBack() : {};
      const drainMs = drainFor(applied, settings.direction, settings.datagramBytes);
      const retransmittedBefore = tcpServer && (await serverRetransmissions(tcpServer));
      // A step at high loss can take a minute: say that it is still going.
      const ticker = setInterval(() => progress(`step ${index + 1}/${count}: still running after ${Math.round((performance.now() - started) / 1000)} s`), 10_000);
      // The client's samples (with --live-ms) go to the watcher as they come, checked like any other input.
      const onSample = (line: string) => {
        if (!line.startsWith(LIVE_SAMPLE_PREFIX)) return false;
        const sample = prefixedJson(line, LIVE_SAMPLE_PREFIX, liveSampleSchema);
        if (sample) observe({ kind: 'sample', index, sample });
        return true;
      };
      const capture = settings.captureFile ? await startStepCapture(lab.capture, settings.captureFile(index)) : null;
      const run = await lab.runClient(clientArgs(settings, index, drainMs), onSample).finally(() => clearInterval(ticker));
      const retransmittedAfter = tcpServer && (await serverRetransmissions(tcpServer));
      const { experiment, captured } = await reportAndCapture(run, capture);
      // The UDP verdicts need nothing of the other steps: the live page is told them as the step ends.
      const udp = analyseUdp(experiment, { ...contextOf(applied, drainMs, null), pacing: captured.pacing });
      const step = {
        label: planStep.label,
        value: planStep.value,
        profile: formatProfile(effectiveProfile(applied ?? {})),
        note: planStep.note,
        installed,
        durationMs: performance.now() - started,
        drainMs,
        experiment,
        serverRetransmittedSegments: typeof retransmittedBefore === 'number' && typeof retransmittedAfter === 'number' ? retransmittedAfter - retransmittedBefore : null,
        capture: captured.capture,
        pacing: captured.pacing,
        udp,
        applied,
      };
      measured.push(step);
      const summary = stepSummary(experiment);
      progress(`step ${index + 1}/${count}: done in ${(step.durationMs / 1000).toFixed(1)} s: ${summary}`);
      observe({ kind: 'step-end', index, durationMs: step.durationMs, experiment, udp, summary });
    }
  } finally {
    await impairer?.apply({}).catch(() => {});
  }
  // The TCP models are put beside the measurements once every step is in: they share the link's figures.
  const link = linkFigures(measured.map((step) => ({ experiment: step.experiment, addedRttMs: step.applied ? addedRttMs(step.applied, settings.direction) : 0 })));
  const steps: SweepStep[] = measured.map(({ applied, ...step }) => ({ ...step, tcp: analyseTcp(step.experiment, contextOf(applied, step.drainMs, link)) }));
  const { plan, fileBytes, datagrams, datagramBytes, rate, receivers, modes, tcpDeadlineMs } = settings;
  // Through the schema on the way out: a field added here but not to the documented contract fails now.
  return sweepResultSchema.parse({
    schema: 'tcp-udp-lab/sweep',
    version: 3,
    startedAt,
    lab: { backend: lab.backend, description: lab.description, limits: [...lab.limits], skipped, honestUdpRate: lab.honestUdpRate ?? null },
    models: { link },
    impairment: impairer && {
      backend: impairer.backend,
      reason: impairer.reason,
      direction: settings.direction,
      hosts: impairer.hosts.map((host) => host.name),
      udpPathHops,
      segmentSizedPackets: true,
    },
    settings: {
      sweep: { dimension: plan.dimension, text: plan.text, ...dimensionUnits[plan.dimension] },
      profile: formatProfile(plan.profile),
      fileBytes,
      datagrams,
      datagramBytes,
      rate,
      receivers,
      modes,
      tcpDeadlineMs,
    },
    calibration,
    steps,
    outside: sweepOutside(steps, settings.plan.dimension),
    ok: steps.every(stepOk),
  } satisfies SweepResult);
}

/**
 * What of the request this lab can run: a lab that cannot touch its network runs only the unimpaired
 * step (the first step whose profile is empty, if there is one), and only the modes its network carries.
 * What is left out is said, never silently dropped; an impairment at every step it cannot apply is refused.
 */
export function fitToLab(lab: Pick<Lab, 'backend' | 'hosts' | 'modes'>, requested: SweepSettings): { settings: SweepSettings; skipped: string[] } {
  const skipped: string[] = [];
  let { plan, modes } = requested;
  if (!lab.hosts) {
    const why = 'impairing the network needs root (network namespaces) or Docker';
    const unimpaired = plan.steps.filter((step) => Object.keys(effectiveProfile(step.profile)).length === 0);
    if (unimpaired.length === 0) {
      throw new LabError('LAB_ERR_IMPAIRMENT_UNSUPPORTED', `"${formatProfile(plan.steps[0]?.profile ?? {})}": the ${lab.backend} lab cannot impair its network: ${why}`);
    }
    const left = plan.steps.filter((step) => !unimpaired.includes(step));
    if (left.length > 0) skipped.push(`the ${plan.dimension} steps ${left.map((step) => step.label).join(', ')}: ${why}`);
    plan = { ...plan, steps: [{ ...unimpaired[0]!, profile: {} }] };
  }
  const unsupported = modes.filter((mode) => !lab.modes.includes(mode));
  if (unsupported.length > 0) skipped.push(`UDP ${unsupported.join(' and ')}: it needs a network of its own (root or Docker); on the host's loopback it would reach past the lab`);
  modes = modes.filter((mode) => lab.modes.includes(mode));
  if (modes.length === 0) throw new LabError('LAB_ERR_CONFIG', `none of the modes asked for (${requested.modes.join(', ')}) runs on this lab`);
  return { settings: { ...requested, plan, modes }, skipped };
}

/** One line of progress: did TCP get the file back, and how much of each UDP stream arrived. */
function stepSummary({ tcp, udp }: ExperimentReport): string {
  const tcpText = 'error' in tcp ? `TCP ${tcp.error.code}` : `TCP ${tcp.identical ? 'identical' : 'MISMATCH'} in ${((tcp.uploadMs + tcp.downloadMs) / 1000).toFixed(1)} s`;
  const udpText =
    'error' in udp
      ? `UDP ${udp.error.code}`
      : `UDP delivered ${udp.modes.map((m) => `${m.mode} ${deliveredPercent(m.receivers).toFixed(1)}%`).join(', ')}`;
  return `${tcpText}; ${udpText}`;
}
