import { createInterface } from 'node:readline';
import { createLogger, type OptionValues } from '@lab/runtime';
import type { chatOptions } from './config.ts';
import { TcpFileClient } from './tcp-client.ts';
import { terminalText } from './terminal-text.ts';

/**
 * `client chat`: lines typed on stdin go to the room; every other member's lines are printed with the
 * room's sequence number. Over TCP nothing is ever missing or out of order: the numbers only go up by
 * one (compare the UDP chat, where gaps show loss).
 */
export async function chat(config: OptionValues<typeof chatOptions>): Promise<number> {
  const log = createLogger('client', config, process.stderr);
  const client = await TcpFileClient.connect({ endpoint: config.server, log, connectTimeoutMs: config.connectTimeoutMs });
  client.keepAlive();
  client.send({ type: 'chat-join', room: config.room });
  const joined = await client.expect('chat-joined');
  process.stderr.write(`joined room ${joined.room} (${joined.members} member${joined.members === 1 ? '' : 's'}); type a line to send it, Ctrl-D to leave\n`);

  const input = createInterface({ input: process.stdin, terminal: false });
  input.on('line', (line) => {
    if (line.trim() !== '') client.send({ type: 'chat', text: line.slice(0, 2000) });
  });
  input.on('close', () => void client.close());

  for (;;) {
    const message = await client.nextMessage();
    if (message === null) break;
    // Another member's text (and, from a server we do not control, any field) is shown, never obeyed.
    if (message.type === 'chat') process.stdout.write(`[${message.room} #${message.seq}] ${terminalText(message.from)}: ${terminalText(message.text)}\n`);
    else if (message.type === 'error') process.stderr.write(`server: ${message.code}: ${terminalText(message.message)}\n`);
  }
  input.close();
  return 0;
}
