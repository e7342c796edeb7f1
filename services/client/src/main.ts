#!/usr/bin/env node
import { LabError } from '@lab/protocol';
import { formatHelp, parseOptions, runMain, type OptionSpecs } from '@lab/runtime';
import { z } from 'zod';
import { chat } from './chat-command.ts';
import { chatOptions, connectionOptions, experimentOptions, jsonOption, receiveOptions, streamOptions, transferOptions, udpChatOptions } from './config.ts';
import { exitStatusFor, ExitStatus } from './exit-status.ts';
import { experiment } from './experiment-command.ts';
import { deleteCommand, get, list, send, statCommand } from './file-commands.ts';
import { receive, stream, udpChat } from './udp-commands.ts';

interface Command {
  summary: string;
  usage: string;
  options: OptionSpecs;
  /** Names of the positional arguments, all required. */
  args: string[];
  run: (values: never, args: string[]) => Promise<number>;
}

const commands: Record<string, Command> = {
  experiment: {
    summary: 'the lab experiment: a file over TCP and back, numbered datagrams through the UDP relay, side by side',
    usage: 'experiment [options]',
    options: experimentOptions,
    args: [],
    run: experiment,
  },
  send: {
    summary: 'upload a file (resumes an interrupted upload of the same content)',
    usage: 'send FILE [--as NAME] [options]',
    options: { ...connectionOptions, ...transferOptions, as: { description: 'name on the server (default: the file\'s base name)', schema: z.string().optional() } },
    args: ['FILE'],
    run: send,
  },
  get: {
    summary: 'download a file (resumes from FILE.<hash>.part after an interruption)',
    usage: 'get NAME [--out PATH] [options]',
    options: { ...connectionOptions, ...transferOptions, out: { description: 'where to write it (default: ./NAME)', schema: z.string().optional() } },
    args: ['NAME'],
    run: get,
  },
  list: { summary: 'list stored files', usage: 'list [options]', options: { ...connectionOptions, ...jsonOption }, args: [], run: list },
  stat: {
    summary: 'size and SHA-256 of a stored file, and its interrupted uploads',
    usage: 'stat NAME [options]',
    options: { ...connectionOptions, ...jsonOption },
    args: ['NAME'],
    run: statCommand,
  },
  delete: {
    summary: 'delete a stored file and its interrupted uploads',
    usage: 'delete NAME [options]',
    options: { ...connectionOptions, ...jsonOption },
    args: ['NAME'],
    run: deleteCommand,
  },
  chat: { summary: 'TCP chat in a room: lines from stdin, others\' lines to stdout', usage: 'chat [--room ROOM] [options]', options: chatOptions, args: [], run: chat },
  'udp-chat': {
    summary: 'UDP chat in a relay room: shows lost, duplicated and late messages as they happen',
    usage: 'udp-chat [--room N] [--mode MODE] [--name NAME] [options]',
    options: udpChatOptions,
    args: [],
    run: udpChat,
  },
  stream: {
    summary: 'send one paced, numbered UDP stream into a relay room',
    usage: 'stream [--room N] [--mode MODE] [--datagrams N] [--rate N] [options]',
    options: streamOptions,
    args: [],
    run: stream,
  },
  receive: {
    summary: 'join a relay room and count one stream: received, lost, duplicated, reordered, late, jitter',
    usage: 'receive [--room N] [--mode MODE] [options]',
    options: receiveOptions,
    args: [],
    run: receive,
  },
};

const program = 'node services/client/src/main.ts';
const exitCodes = [
  'Exit status:',
  `  ${ExitStatus.ok} done (for experiment: every part ran and the TCP copy is identical; UDP loss is a measurement, not a failure)`,
  `  ${ExitStatus.failure} failed   ${ExitStatus.usage} bad options   ${ExitStatus.notFound} no such file   ${ExitStatus.integrity} SHA-256 mismatch`,
  `  ${ExitStatus.refused} refused by the server (limits, quota, name)   ${ExitStatus.unreachable} server unreachable after every retry`,
].join('\n');

function overview(): string {
  const width = Math.max(...Object.keys(commands).map((name) => name.length)) + 2;
  return [
    `Usage: ${program} COMMAND [options]     (${program} COMMAND --help for its options)`,
    '',
    'The lab client. Commands:',
    ...Object.entries(commands).map(([name, command]) => `  ${name.padEnd(width)}${command.summary}`),
    '',
    'Without a command it runs experiment.',
    '',
    exitCodes,
    '',
  ].join('\n');
}

async function main(): Promise<number> {
  const argv = process.argv.slice(2);
  if (argv.length === 1 && (argv[0] === '--help' || argv[0] === 'help')) {
    process.stdout.write(overview());
    return 0;
  }
  const named = argv[0] !== undefined && !argv[0].startsWith('-');
  const name = named ? argv[0]! : 'experiment';
  const command = commands[name];
  if (!command) throw new LabError('LAB_ERR_CONFIG', `unknown command ${JSON.stringify(name)} (see --help)`);
  const parsed = parseOptions(command.options, named ? argv.slice(1) : argv, process.env, { allowPositionals: command.args.length > 0 });
  if (parsed.help) {
    process.stdout.write(formatHelp(`${program} ${command.usage}`, `${command.summary}.\n\n${exitCodes}`, command.options));
    return 0;
  }
  if (parsed.positionals.length !== command.args.length) {
    throw new LabError('LAB_ERR_CONFIG', `${name} takes ${command.args.join(' ') || 'no arguments'} (see ${name} --help)`);
  }
  return command.run(parsed.values as never, parsed.positionals);
}

runMain('client', main, exitStatusFor);
