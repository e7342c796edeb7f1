import { basename } from 'node:path';
import { packetCaptureSchema, type PacketCapture } from '@lab/results';
import type { PacketCapturer } from './client-capture.ts';
import { SNAP_LENGTH, type CaptureEnd, type RunningCapture } from './dumpcap.ts';
import { tcpLadder, udpPackets } from './tcp-ladder.ts';
import { readCapture } from './tshark.ts';

/** A step's capture while the step runs; `finish` stops it and reads it. */
export interface StepCapture {
  /** `clientPort`: the experiment connection's port, as the client reported it (null: not known). */
  finish(clientPort: number | null): Promise<PacketCapture>;
}

const message = (error: unknown) => (error instanceof Error ? error.message : String(error));

/**
 * Starts capturing the client's interface into `file`. A capture that cannot be made never fails the
 * step: the step's result says why there is none, as the report does.
 */
export async function startStepCapture(capturer: PacketCapturer, file: string): Promise<StepCapture> {
  if ('unavailable' in capturer) return { finish: async () => ({ unavailable: capturer.unavailable }) };
  let running: RunningCapture;
  try {
    running = await capturer.start(file);
  } catch (error) {
    const why = message(error);
    return { finish: async () => ({ unavailable: `the capture did not start: ${why}` }) };
  }
  return {
    async finish(clientPort) {
      let end: CaptureEnd;
      try {
        end = await running.stop();
      } catch (error) {
        return { unavailable: `the capture could not be kept: ${message(error)}` };
      }
      const base = { file: basename(end.file), bytes: end.bytes, snapLength: SNAP_LENGTH, packets: end.packets, dropped: end.dropped };
      const unread = (why: string): PacketCapture => ({ ...base, tcp: null, udp: { sent: 0, received: 0, first: [] }, error: why });
      try {
        const frames = await readCapture(end.file);
        const tcp = tcpLadder(frames, clientPort);
        // Checked here, not only with the whole result: a capture the lab misreads costs its ladder, never the sweep.
        const read = packetCaptureSchema.safeParse({ ...base, tcp, udp: udpPackets(frames, tcp?.client.address ?? null), error: null });
        return read.success ? read.data : unread(`the lab could not draw this capture: ${read.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ')}`);
      } catch (error) {
        return unread(message(error));
      }
    },
  };
}
