import { z } from 'zod';
import { directions, formatProfile, parseProfile, type ImpairmentProfile } from '@lab/impairment';
import { LabError } from '@lab/protocol';
import { nonNegativeIntSchema, parsedText, portSchema, positiveIntSchema, type OptionSpecs } from '@lab/runtime';
import { experimentOptions } from '@lab/client';
import { labChoices } from './choose-lab.ts';
import { lossSweep, parseSweep, planSweep, type SweepPlan } from './sweep-plan.ts';

/** The sweep when none is asked for. */
export const DEFAULT_SWEEP = 'loss 0%,1%,5%,10%,20%,30%';
/** The datagram rate where none is asked for; lower in the user-mode Linux lab, whose one CPU must keep up. */
export const DEFAULT_RATE = { host: 2000, uml: 200 } as const;
/**
 * How often the client samples its connection and streams for the live page, in ms: each TCP sample
 * runs `ss`, which the user-mode kernel's one CPU pays for dearly, so there less often.
 */
export const LIVE_SAMPLE_MS = { host: 100, uml: 250 } as const;

const profileSchema = parsedText(parseProfile);

const lossListSchema = z
  .string()
  .transform((text) => text.split(',').map((part) => (part.trim() === '' ? NaN : Number(part.trim().replace(/%$/, '')))))
  .pipe(z.array(z.number().min(0).max(100)).min(1).max(50))
  .optional();

const sweepSchema = parsedText(parseSweep).optional();

/** The options of `npm run demo` (scripts/demo.ts): what to sweep, how much to send, where to write. */
export const sweepOptions = {
  lab: {
    description:
      'where the lab runs: containers (Docker; on Debian as root it is installed and started), namespaces (root: a network namespace per service, ' +
      'joined by a bridge), loopback (any user: 127.0.0.1, no impairment, unicast only), uml (the namespaces inside a user-mode Linux kernel: netem on any ' +
      'Linux host, one slow CPU), or auto: uml if the sweep needs netem and this kernel has none, else containers if a Docker engine answers, else namespaces as root, else loopback',
    env: 'LAB_BACKEND',
    default: 'auto',
    schema: z.enum(labChoices),
  },
  sweep: {
    description:
      'what changes from step to step: a tc-netem(8) word and its values, comma-separated: "loss 0%,1%,5%", "delay 0ms,10ms,50ms,200ms", ' +
      `"duplicate 0%,5%,20%", "corrupt 0%,1%,5%", "reorder 0%,10%,25%" (with a delay in --profile), "rate 100mbit,10mbit,1mbit" (default: ${DEFAULT_SWEEP})`,
    env: 'LAB_SWEEP',
    schema: sweepSchema,
  },
  loss: { description: 'the short form of --sweep "loss …": loss steps in percent, comma-separated (e.g. 0,1,5)', env: 'LAB_SWEEP_LOSS', schema: lossListSchema },
  profile: {
    description: 'impairment at every step besides the swept word, in tc-netem(8) words (e.g. "delay 20ms 5ms"); anything but random loss needs netem',
    env: 'LAB_SWEEP_PROFILE',
    default: '',
    schema: profileSchema,
  },
  direction: {
    description: 'impair packets going into the servers, out of them, or both (in: the upload\'s data and the datagrams into the relay meet the profile, the download\'s data does not)',
    env: 'LAB_SWEEP_DIRECTION',
    default: 'in',
    schema: z.enum(directions),
  },
  fileBytes: { description: 'size of the file TCP sends up and down at each step, in bytes', env: 'LAB_FILE_BYTES', default: String(4 * 1024 * 1024), schema: positiveIntSchema },
  tcpDeadlineMs: { description: 'cut a step\'s TCP transfers after this many ms and report "did not complete" (0: no limit)', env: 'LAB_TCP_DEADLINE_MS', default: '120000', schema: nonNegativeIntSchema },
  // The UDP stream's shape is the client's experiment's, option for option.
  datagrams: experimentOptions.datagrams,
  datagramBytes: experimentOptions.datagramBytes,
  rate: { ...experimentOptions.rate, description: `datagrams per second (default ${DEFAULT_RATE.host}; ${DEFAULT_RATE.uml} in the uml lab)`, default: undefined, schema: experimentOptions.rate.schema.optional() },
  receivers: experimentOptions.receivers,
  modes: experimentOptions.modes,
  out: { description: 'folder for the JSON result, the SVG chart and the HTML page', env: 'LAB_RESULTS_DIR', default: 'results', schema: z.string().min(1) },
  json: { description: 'print only the JSON result on stdout (progress still goes to stderr)', env: 'LAB_JSON', boolean: true, schema: z.boolean().default(false) },
  logs: { description: 'print the servers\' logs after the sweep', env: 'LAB_SHOW_LOGS', boolean: true, schema: z.boolean().default(false) },
  uiPort: { description: 'port of the live page on 127.0.0.1 (0: one the kernel picks; the URL is printed before the first step)', env: 'LAB_UI_PORT', default: '0', schema: portSchema },
  noUi: { description: 'serve no live page', env: 'LAB_NO_UI', boolean: true, schema: z.boolean().default(false) },
} satisfies OptionSpecs;

/**
 * The steps the options ask for: `--sweep`, or `--loss` (its short form), or the default, on top of
 * `--profile`. Where nothing says what to sweep and the profile has a loss of its own that cannot be
 * combined with a random one (Gilbert-Elliott, a correlation), that loss is the one step: `--profile
 * "loss gemodel 5% 30%"` runs the profile as it is, rather than replacing its loss or refusing it.
 */
export function planFromOptions(options: { sweep?: ReturnType<typeof parseSweep> | undefined; loss?: number[] | undefined; profile: ImpairmentProfile }): SweepPlan {
  if (options.sweep && options.loss) throw new LabError('LAB_ERR_CONFIG', '--sweep and --loss both say what to sweep: give one (--loss 0,1,5 is --sweep "loss 0%,1%,5%")');
  const { loss, ...rest } = options.profile;
  const plainLoss = loss?.kind === 'random' && (loss.correlation ?? 0) === 0;
  if (!options.sweep && !options.loss && loss && !plainLoss) {
    return planSweep({ dimension: 'loss', values: [{ label: formatProfile({ loss }).replace(/^loss /, ''), profile: { loss } }] }, rest);
  }
  return planSweep(options.sweep ?? parseSweep(options.loss ? lossSweep(options.loss) : DEFAULT_SWEEP), options.profile);
}
