import { z } from 'zod';
import { parseProfile, type ImpairmentProfile } from '@lab/impairment';
import { parsedText, type OptionSpecs } from '@lab/runtime';
import { experimentOptions } from '@lab/client';

/**
 * Three profiles that each test one thing iperf3 and the lab count: delay with jitter and loss, reordering,
 * duplication. The reordering's delay is not a whole number of the default 5 ms gaps: at `delay 10ms` a
 * datagram two gaps later arrives at the very moment the one it may overtake is released, and which
 * comes first turns on tenths of a millisecond of either sender's timing.
 */
export const DEFAULT_ACCURACY_PROFILES = 'delay 10ms 2ms loss 5%; delay 12ms reorder 25%; duplicate 10%';

/** Profiles separated by semicolons (a profile's own words hold spaces, and some hold commas of none). */
export function parseProfiles(text: string): ImpairmentProfile[] {
  const parts = text.split(';').map((part) => part.trim()).filter(Boolean);
  if (parts.length === 0) throw new Error('no profile given');
  return parts.map((part) => parseProfile(part));
}

/** The options of `npm run check:accuracy` (scripts/check-accuracy.ts). */
export const accuracyOptions = {
  lab: {
    description: 'where it runs: namespaces (root, on a kernel with netem), uml (the namespaces inside a user-mode Linux kernel that has netem), or auto: namespaces where this kernel has netem, else uml',
    env: 'LAB_BACKEND',
    default: 'auto',
    schema: z.enum(['auto', 'namespaces', 'uml']),
  },
  profiles: {
    description: "tc-netem(8) profiles, separated by semicolons, each applied in turn to the relay host's way in",
    env: 'LAB_ACCURACY_PROFILES',
    default: DEFAULT_ACCURACY_PROFILES,
    schema: parsedText(parseProfiles),
  },
  datagrams: { ...experimentOptions.datagrams, default: '4000' },
  datagramBytes: experimentOptions.datagramBytes,
  rate: { ...experimentOptions.rate, description: 'datagrams per second, for both tools', default: '200' },
  out: { description: 'folder for each profile\'s packet capture and iperf3\'s report (accuracy-<time>-<n>.pcapng, -iperf3.json)', env: 'LAB_RESULTS_DIR', default: 'results', schema: z.string().min(1) },
  json: { description: 'print the outcomes as one JSON object instead of the table', env: 'LAB_JSON', boolean: true, schema: z.boolean().default(false) },
} satisfies OptionSpecs;
