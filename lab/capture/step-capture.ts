import { basename } from 'node:path';
import type { DeliveryMode } from '@lab/protocol';
import { packetCaptureSchema, type PacketCapture, type StreamPacing } from '@lab/results';
import type { CapturedFrame } from './captured-frame.ts';
import type { PacketCapturer } from './client-capture.ts';
import { SNAP_LENGTH, type CaptureEnd, type RunningCapture } from './dumpcap.ts';
import { sendGaps } from './send-gaps.ts';
import { tcpLadder, udpPackets } from './tcp-ladder.ts';
import { readCapture } from './tshark.ts';

/** The UDP streams of a step, as the client reported them: which room each mode's stream went into, at what rate. */
export interface CapturedStreams {
  rate: number;
  rooms: { mode: DeliveryMode; room: number }[];
}

/** What a step's capture holds: the file and its ladder, and how evenly each stream left. */
export interface StepCaptureResult {
  capture: PacketCapture;
  pacing: StreamPacing[];
}

/** A step's capture while the step runs; `finish` stops it and reads it. */
export interface StepCapture {
  /** `clientPort`: the experiment connection's port, as the client reported it (null: not known); `streams`: its UDP streams (null: none measured). */
  finish(clientPort: number | null, streams?: CapturedStreams | null): Promise<StepCaptureResult>;
}

/** The lab's data datagrams (type 4) of each stream leaving `self`, in capture order: their gaps. */
export function streamPacing(frames: readonly CapturedFrame[], self: string | null, streams: CapturedStreams): StreamPacing[] {
  return streams.rooms.flatMap(({ mode, room }) => {
    const times = frames.filter((frame) => frame.src === self && frame.udp?.lab?.type === 4 && frame.udp.lab.room === room).map((frame) => frame.ms / 1000);
    const gaps = sendGaps(times, streams.rate);
    return gaps ? [{ mode, ...gaps }] : [];
  });
}

const message = (error: unknown) => (error instanceof Error ? error.message : String(error));

/**
 * Starts capturing the client's interface into `file`. A capture that cannot be made never fails the
 * step: the step's result says why there is none, as the report does.
 */
export async function startStepCapture(capturer: PacketCapturer, file: string): Promise<StepCapture> {
  const none = (capture: PacketCapture): StepCaptureResult => ({ capture, pacing: [] });
  if ('unavailable' in capturer) return { finish: async () => none({ unavailable: capturer.unavailable }) };
  let running: RunningCapture;
  try {
    running = await capturer.start(file);
  } catch (error) {
    const why = message(error);
    return { finish: async () => none({ unavailable: `the capture did not start: ${why}` }) };
  }
  return {
    async finish(clientPort, streams = null) {
      let end: CaptureEnd;
      try {
        end = await running.stop();
      } catch (error) {
        return none({ unavailable: `the capture could not be kept: ${message(error)}` });
      }
      const base = { file: basename(end.file), bytes: end.bytes, snapLength: SNAP_LENGTH, packets: end.packets, dropped: end.dropped };
      const unread = (why: string): StepCaptureResult => none({ ...base, tcp: null, udp: { sent: 0, received: 0, first: [] }, error: why });
      try {
        const frames = await readCapture(end.file);
        const tcp = tcpLadder(frames, clientPort);
        const udp = udpPackets(frames, tcp?.client.address ?? null);
        const self = tcp?.client.address ?? udp.first[0]?.src.address ?? null;
        // Checked here, not only with the whole result: a capture the lab misreads costs its ladder, never the sweep.
        const read = packetCaptureSchema.safeParse({ ...base, tcp, udp, error: null });
        if (!read.success) return unread(`the lab could not draw this capture: ${read.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ')}`);
        return { capture: read.data, pacing: streams ? streamPacing(frames, self, streams) : [] };
      } catch (error) {
        return unread(message(error));
      }
    },
  };
}
