import { runCommand } from '@lab/runtime';
import { LabError } from '@lab/protocol';
import { parseTsharkFields, TSHARK_FIELDS, TSHARK_FILTER, type CapturedFrame } from './captured-frame.ts';

/** A 10%-loss step's capture (12,000 frames) takes tshark about a second here; the user-mode kernel is slower. */
const TSHARK_TIMEOUT_MS = 120_000;

/** Every TCP and UDP frame of a capture, read by tshark (a kept decoder, not one of ours). */
export async function readCapture(file: string): Promise<CapturedFrame[]> {
  const argv = ['tshark', '-r', file, '-n', '-Y', TSHARK_FILTER, '-T', 'fields', '-E', 'separator=/t', '-E', 'occurrence=f', ...TSHARK_FIELDS.flatMap((field) => ['-e', field])];
  const run = await runCommand(argv, { timeoutMs: TSHARK_TIMEOUT_MS });
  if (run.code === 127) throw new LabError('LAB_ERR_CONFIG', 'tshark is not installed (Debian: apt-get install tshark; scripts/bootstrap.sh installs it as root)');
  if (run.code !== 0) throw new LabError('LAB_ERR_CONFIG', `tshark could not read ${file} (status ${run.code}): ${run.output.slice(-500)}`);
  const { frames, refused } = parseTsharkFields(run.stdout);
  if (refused > 0 && frames.length === 0) throw new LabError('LAB_ERR_UNEXPECTED_MESSAGE', `tshark printed ${refused} lines the lab cannot read from ${file}`);
  return frames;
}
