import { effectiveProfile, formatProfile, hopsThrough, Impairer, useSegmentSizedPackets, type Direction, type ImpairedHost, type ImpairmentProfile } from '@lab/impairment';
import { LabError, type DeliveryMode } from '@lab/protocol';
import { parseTcpSnmp } from '@lab/host-counters';
import { jsonLines, prefixedJson } from './json-lines.ts';
import { impairedHosts, type Lab } from './lab.ts';
import { addedRttMs, analyseStep, drainFor, linkFigures, stepOk } from './step-analysis.ts';
import { deliveredPercent } from './sweep-outcome.ts';
import { dimensionUnits, type SweepPlan } from './sweep-plan.ts';
import { startStepCapture } from './capture/step-capture.ts';
import { experimentReportSchema, LIVE_SAMPLE_PREFIX, liveSampleSchema, sweepResultSchema, type ExperimentReport, type LiveSample, type SweepResult, type SweepStep } from '@lab/results';

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
  /** Where step `index`'s packet capture goes (a pcapng beside the result); absent: no capture. */
  captureFile?: (index: number) => string;
  /** Lines of the chat contrast per step (0: none); absent: the client's default (20). */
  chatLines?: number;
}

export type Progress = (line: string) => void;

/** What a watcher is told as the sweep goes (the live page): a step begins, a step's report is in. */
export type SweepEvent =
  | { kind: 'step-start'; index: number; label: string; impairment: string; startedAt: number }
  | { kind: 'step-end'; index: number; durationMs: number; experiment: ExperimentReport; summary: string }
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
export function clientArgs(settings: SweepSettings, index: number, drainMs: number): string[] {
  const liveMs = settings.liveMs?.() ?? 0;
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
    ...(settings.chatLines === undefined ? [] : [`--chat-lines=${settings.chatLines}`]),
  ];
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
  const measured: (Omit<SweepStep, 'tcp' | 'udp'> & { applied: ImpairmentProfile | null })[] = [];
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
      const line = jsonLines(run.stdout).find((candidate) => candidate.schema === 'tcp-udp-lab/experiment');
      // The capture stops whatever the client said; the ladder finds the experiment's connection by its port.
      const parsed = experimentReportSchema.safeParse(line);
      const reported = parsed.data?.tcp;
      const captured = capture ? await capture.finish(reported && !('error' in reported) ? reported.localPort : null) : { unavailable: 'no capture was asked for' };
      if (!line) throw new LabError('LAB_ERR_UNEXPECTED_MESSAGE', `the client printed no result (exit status ${run.code}): ${run.output.slice(-2000)}`);
      if (!parsed.success) throw parsed.error;
      const experiment = parsed.data;
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
        capture: captured,
        applied,
      };
      measured.push(step);
      const summary = stepSummary(experiment);
      progress(`step ${index + 1}/${count}: done in ${(step.durationMs / 1000).toFixed(1)} s: ${summary}`);
      observe({ kind: 'step-end', index, durationMs: step.durationMs, experiment, summary });
    }
  } finally {
    await impairer?.apply({}).catch(() => {});
  }
  // The models are put beside the measurements once every step is in: they share the link's figures.
  const link = linkFigures(measured.map((step) => ({ experiment: step.experiment, addedRttMs: step.applied ? addedRttMs(step.applied, settings.direction) : 0 })));
  const steps: SweepStep[] = measured.map(({ applied, ...step }) => ({
    ...step,
    ...analyseStep(step.experiment, {
      profile: applied,
      direction: settings.direction,
      link,
      datagrams: settings.datagrams,
      datagramBytes: settings.datagramBytes,
      rate: settings.rate,
      receivers: settings.receivers,
      drainMs: step.drainMs,
      lateMs: LATE_MS,
      honestUdpRate: lab.honestUdpRate ?? null,
    }),
  }));
  const { plan, fileBytes, datagrams, datagramBytes, rate, receivers, modes, tcpDeadlineMs } = settings;
  // Through the schema on the way out: a field added here but not to the documented contract fails now.
  return sweepResultSchema.parse({
    schema: 'tcp-udp-lab/sweep',
    version: 2,
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
    steps,
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
