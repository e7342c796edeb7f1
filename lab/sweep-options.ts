import { z } from 'zod';
import { directions, parseProfile } from '@lab/impairment';
import { DATAGRAM_HEADER_BYTES, deliveryModes, LabError } from '@lab/protocol';
import { nonNegativeIntSchema, positiveIntSchema, type OptionSpecs } from '@lab/runtime';

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
  loss: { description: 'loss steps in percent, comma-separated', env: 'LAB_SWEEP_LOSS', default: '0,1,5,10,20,30', schema: lossListSchema },
  profile: {
    description: 'more impairment at every step, in tc-netem(8) words (e.g. "delay 20ms 5ms"); anything but loss needs netem',
    env: 'LAB_SWEEP_PROFILE',
    default: '',
    schema: profileSchema,
  },
  direction: {
    description: 'impair packets going into the servers, out of them, or both (in: TCP data of the upload and UDP into the relay lose, ACKs do not)',
    env: 'LAB_SWEEP_DIRECTION',
    default: 'in',
    schema: z.enum(directions),
  },
  fileBytes: { description: 'size of the file TCP sends up and down at each step, in bytes', env: 'LAB_FILE_BYTES', default: String(4 * 1024 * 1024), schema: positiveIntSchema },
  tcpDeadlineMs: { description: 'cut a step\'s TCP transfers after this many ms and report "did not complete" (0: no limit)', env: 'LAB_TCP_DEADLINE_MS', default: '120000', schema: nonNegativeIntSchema },
  datagrams: { description: 'UDP datagrams per mode at each step', env: 'LAB_DATAGRAMS', default: '1000', schema: positiveIntSchema },
  datagramBytes: {
    description: `bytes per datagram, ${DATAGRAM_HEADER_BYTES}-byte lab header included`,
    env: 'LAB_DATAGRAM_BYTES',
    default: '512',
    schema: z.coerce.number().int().min(DATAGRAM_HEADER_BYTES).max(1472),
  },
  rate: { description: 'UDP datagrams per second', env: 'LAB_RATE', default: '2000', schema: z.coerce.number().positive().max(1_000_000) },
  receivers: { description: 'UDP receivers per mode', env: 'LAB_RECEIVERS', default: '2', schema: z.coerce.number().int().min(1).max(32) },
  modes: {
    description: `UDP delivery modes, comma-separated: ${deliveryModes.join(', ')}`,
    env: 'LAB_MODES',
    default: deliveryModes.join(','),
    schema: z
      .string()
      .transform((text) => text.split(',').map((mode) => mode.trim()))
      .pipe(z.array(z.enum(deliveryModes)).min(1)),
  },
  out: { description: 'folder for the JSON result, the SVG chart and the HTML page', env: 'LAB_RESULTS_DIR', default: 'results', schema: z.string().min(1) },
  json: { description: 'print only the JSON result on stdout (progress still goes to stderr)', env: 'LAB_JSON', boolean: true, schema: z.boolean().default(false) },
  logs: { description: 'print the servers\' logs after the sweep', env: 'LAB_SHOW_LOGS', boolean: true, schema: z.boolean().default(false) },
} satisfies OptionSpecs;
