import { z } from 'zod';
import { directions, parseProfile } from '@lab/impairment';
import { LabError } from '@lab/protocol';
import { nonNegativeIntSchema, positiveIntSchema, type OptionSpecs } from '@lab/runtime';
import { experimentOptions } from '../services/client/src/config.ts';
import { labChoices } from './choose-lab.ts';

const profileSchema = z.string().transform((text, ctx) => {
  try {
    return parseProfile(text);
  } catch (error) {
    ctx.addIssue({ code: 'custom', message: error instanceof LabError ? error.message : String(error) });
    return z.NEVER;
  }
});

const lossListSchema = z
  .string()
  .transform((text) => text.split(',').map((part) => (part.trim() === '' ? NaN : Number(part.trim().replace(/%$/, '')))))
  .pipe(z.array(z.number().min(0).max(100)).min(1).max(50));

/** The options of `npm run demo` (scripts/demo.ts): what to sweep, how much to send, where to write. */
export const sweepOptions = {
  lab: {
    description:
      'where the lab runs: containers (Docker; on Debian as root it is installed and started), namespaces (root: a network namespace per service, ' +
      'joined by a bridge), loopback (any user: 127.0.0.1, no impairment, unicast only), or auto: containers if a Docker engine answers, else namespaces as root, else loopback',
    env: 'LAB_BACKEND',
    default: 'auto',
    schema: z.enum(labChoices),
  },
  loss: { description: 'loss steps in percent, comma-separated', env: 'LAB_SWEEP_LOSS', default: '0,1,5,10,20,30', schema: lossListSchema },
  profile: {
    description: 'more impairment at every step, in tc-netem(8) words (e.g. "delay 20ms 5ms"); anything but loss needs netem',
    env: 'LAB_SWEEP_PROFILE',
    default: '',
    schema: profileSchema,
  },
  direction: {
    description: 'impair packets going into the servers, out of them, or both (in: the upload\'s data and the datagrams into the relay meet the loss, the download\'s data does not)',
    env: 'LAB_SWEEP_DIRECTION',
    default: 'in',
    schema: z.enum(directions),
  },
  fileBytes: { description: 'size of the file TCP sends up and down at each step, in bytes', env: 'LAB_FILE_BYTES', default: String(4 * 1024 * 1024), schema: positiveIntSchema },
  tcpDeadlineMs: { description: 'cut a step\'s TCP transfers after this many ms and report "did not complete" (0: no limit)', env: 'LAB_TCP_DEADLINE_MS', default: '120000', schema: nonNegativeIntSchema },
  // The UDP stream's shape is the client's experiment's, option for option.
  datagrams: experimentOptions.datagrams,
  datagramBytes: experimentOptions.datagramBytes,
  rate: experimentOptions.rate,
  receivers: experimentOptions.receivers,
  modes: experimentOptions.modes,
  out: { description: 'folder for the JSON result, the SVG chart and the HTML page', env: 'LAB_RESULTS_DIR', default: 'results', schema: z.string().min(1) },
  json: { description: 'print only the JSON result on stdout (progress still goes to stderr)', env: 'LAB_JSON', boolean: true, schema: z.boolean().default(false) },
  logs: { description: 'print the servers\' logs after the sweep', env: 'LAB_SHOW_LOGS', boolean: true, schema: z.boolean().default(false) },
} satisfies OptionSpecs;
