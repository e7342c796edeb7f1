// The thread of a PacedSender (paced-sender.ts): one room member that only sends. It waits for each
// datagram's due time blocking this thread (waitPrecisely), which the receivers on the main thread never
// feel. Told what to do by the main thread, one message at a time; answers each.
import { parentPort, workerData } from 'node:worker_threads';
import { LabError } from '@lab/protocol';
import { Logger } from '@lab/runtime';
import type { PacedSenderCommand, PacedSenderReply, PacedSenderSetup } from './paced-sender.ts';
import { UdpMember } from './udp-member.ts';
import { sendStream } from './udp-stream.ts';

const port = parentPort!;
const setup = workerData as PacedSenderSetup;
const reply = (message: PacedSenderReply) => port.postMessage(message);
const log = new Logger({ service: 'client', level: setup.logLevel, format: 'json', stream: process.stderr });

try {
  // Connected to the relay: each datagram leaves inside send(), when its time is stamped.
  const member = await UdpMember.open({ ...setup.member, log, connect: true });
  reply({ kind: 'opened', sender: member.sender, localPort: member.localPort });
  port.on('message', (command: PacedSenderCommand) => {
    const answer = async (): Promise<PacedSenderReply> => {
      if (command.kind === 'join') return { kind: 'joined', payload: await member.join() };
      if (command.kind === 'send') return { kind: 'sent', result: await sendStream(member, command.shape) };
      await member.close();
      return { kind: 'closed' };
    };
    answer().then(reply, (error: unknown) =>
      reply({ kind: 'failed', code: error instanceof LabError ? error.code : null, message: error instanceof Error ? error.message : String(error) }),
    );
  });
} catch (error) {
  reply({ kind: 'failed', code: error instanceof LabError ? error.code : null, message: error instanceof Error ? error.message : String(error) });
}
