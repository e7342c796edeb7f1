// The thread of a SenderThread (paced-sender.ts): room members that only send, one at a time. It waits
// for each datagram's due time blocking this thread (waitPrecisely), which the receivers on the main
// thread never feel. Told what to do by the main thread, one message at a time; answers each.
import { parentPort, workerData } from 'node:worker_threads';
import { LabError } from '@lab/protocol';
import { Logger, type LogLevel } from '@lab/runtime';
import type { PacedSenderCommand, PacedSenderReply } from './paced-sender.ts';
import { UdpMember } from './udp-member.ts';
import { sendStream } from './udp-stream.ts';

const port = parentPort!;
const log = new Logger({ service: 'client', level: (workerData as { logLevel: LogLevel }).logLevel, format: 'json', stream: process.stderr });
let member: UdpMember | null = null;

async function answer(command: PacedSenderCommand): Promise<PacedSenderReply> {
  if (command.kind === 'open') {
    await member?.close();
    // Connected to the relay: each datagram leaves inside send(), when its time is stamped.
    member = await UdpMember.open({ ...command.member, log, connect: true });
    return { kind: 'opened', sender: member.sender, localPort: member.localPort };
  }
  if (!member) throw new LabError('LAB_ERR_UNEXPECTED_MESSAGE', `${command.kind} before open`);
  if (command.kind === 'join') return { kind: 'joined', payload: await member.join() };
  if (command.kind === 'send') return { kind: 'sent', result: await sendStream(member, command.shape) };
  await member.close();
  member = null;
  return { kind: 'closed' };
}

port.on('message', (command: PacedSenderCommand) => {
  answer(command).then(
    (reply) => port.postMessage(reply),
    (error: unknown) => port.postMessage({ kind: 'failed', code: error instanceof LabError ? error.code : null, message: error instanceof Error ? error.message : String(error) } satisfies PacedSenderReply),
  );
});
