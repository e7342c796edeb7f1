#!/usr/bin/env node
// The entry of each lab container under Compose: `node services/container-entry/src/main.ts SERVICE_MAIN [args…]`.
//
// Started as root with NET_ADMIN (and no other capability), it prepares the container's lab interface:
// one TCP segment per packet (as on a real wire, see segmentSizedPacketSteps) and, when IMPAIR is set,
// the impairment profile (IMPAIR="loss 10%" docker compose up). Then it gives up root for uid 10001,
// which also drops every capability (capabilities(7): a setuid from 0 to non-zero clears them), and
// runs the service. The service never runs as root.
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { z } from 'zod';
import { directions, Impairer, parseProfile, useSegmentSizedPackets, type Exec, type ImpairmentProfile } from '@lab/impairment';
import { LabError } from '@lab/protocol';
import { createLogger, LAB_UID, loggingOptions, parsedText, parseOptions, runCommand, runMain, type OptionSpecs } from '@lab/runtime';

const entryOptions = {
  impair: {
    description: 'impairment profile for this container\'s lab interface, in tc-netem(8) words (e.g. "loss 10%")',
    env: 'IMPAIR',
    default: '',
    schema: parsedText(parseProfile),
  },
  impairDirection: { description: 'which packets IMPAIR applies to: in, out or both', env: 'IMPAIR_DIRECTION', default: 'in', schema: z.enum(directions) },
  labDev: { description: 'the lab interface', env: 'LAB_DEV', default: 'eth0', schema: z.string().regex(/^[\w.-]{1,15}$/) },
  ...loggingOptions,
} satisfies OptionSpecs;

const usage = 'node services/container-entry/src/main.ts SERVICE_MAIN [service arguments…]';
const description =
  'The first program of each lab container (docker-compose.yml). As root with NET_ADMIN: makes each TCP packet one segment on\n' +
  'the lab interface and applies IMPAIR there; then gives up root for uid ' + LAB_UID + ' (and with it every capability) and runs\n' +
  'SERVICE_MAIN with the arguments after it. Configured by its environment only: the arguments are the service\'s.';

/** Its help lists variables, not flags: every argument belongs to the service. */
function help(): string {
  const rows = Object.values(entryOptions).map((spec) => [spec.env, `${spec.description}${'default' in spec && spec.default ? ` (default ${spec.default})` : ''}`] as const);
  const width = Math.max(...rows.map(([name]) => name.length)) + 2;
  return [`Usage: ${usage}`, '', description, '', 'Environment:', ...rows.map(([name, text]) => `  ${name.padEnd(width)}${text}`), ''].join('\n');
}

const localExec: Exec = (argv) => runCommand(argv, { timeoutMs: 30_000 });

const isEmpty = (profile: ImpairmentProfile) => Object.keys(profile).length === 0;

runMain('container-entry', async () => {
  const serviceMain = process.argv[2];
  if (serviceMain === '--help') {
    process.stdout.write(help());
    return 0;
  }
  if (!serviceMain) throw new LabError('LAB_ERR_CONFIG', `usage: ${usage} (see --help)`);
  // Checked before anything is done as root: an option here is a mistake, not a program to run.
  if (serviceMain.startsWith('-')) throw new LabError('LAB_ERR_CONFIG', `unknown option '${serviceMain}': the entry takes only SERVICE_MAIN first (see --help)`);
  if (!existsSync(resolve(serviceMain))) throw new LabError('LAB_ERR_CONFIG', `no such program: ${serviceMain}`);
  // Only the environment configures the entry; the arguments are the service's.
  const parsed = parseOptions(entryOptions, [], process.env);
  if (parsed.help) return 0;
  const options = parsed.values;
  const log = createLogger('container-entry', options, process.stderr);
  const host = { name: 'this container', exec: localExec };

  if (process.getuid?.() === 0) {
    await useSegmentSizedPackets([host], options.labDev).catch((error: unknown) => {
      log.warn('segments', { msg: `cannot make TCP packets one segment each (${(error as Error).message}); a dropped packet may be many segments` });
    });
    if (!isEmpty(options.impair)) {
      const impairer = await Impairer.create([host], { direction: options.impairDirection, dev: options.labDev });
      await impairer.apply(options.impair);
      const installed = Object.values(await impairer.readBack()).join('\n').split('\n').filter((line) => !line.startsWith('-P ')).join('; ');
      log.info('impaired', { msg: `impairment: ${impairer.describe(options.impair)}; the kernel has: ${installed}`, backend: impairer.backend, reason: impairer.reason });
    }
    process.setgroups?.([]);
    process.setgid?.(LAB_UID);
    process.setuid?.(LAB_UID);
  } else if (!isEmpty(options.impair)) {
    throw new LabError('LAB_ERR_IMPAIRMENT_UNSUPPORTED', `IMPAIR is set but the container started as uid ${process.getuid?.()}: it must start as root (user: "0") with NET_ADMIN to apply it`);
  }
  if (process.getuid?.() === 0) throw new LabError('LAB_ERR_CONFIG', 'still root after dropping privileges');
  // The service reads process.argv.slice(2) as its own: make it look started directly.
  process.argv.splice(1, 2, resolve(serviceMain));
  await import(pathToFileURL(resolve(serviceMain)).href);
  return undefined;
});
