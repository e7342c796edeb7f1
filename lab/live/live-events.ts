import { z } from 'zod';
import { liveSampleSchema, verdicts } from '@lab/results';
import { prefixedJson } from '../json-lines.ts';

/**
 * What the live page is told while a sweep runs, one event at a time, in order. The demo publishes
 * them; in the user-mode Linux lab the guest's demo writes them to its stderr (`live: {json}`) and the
 * host's demo, which serves the page, reads them back through this schema: the guest is another kernel,
 * and its lines are input like any other.
 */
export const liveEventSchema = z.discriminatedUnion('kind', [
  /** The sweep begins: what it sweeps, where, and its steps' labels. */
  z.strictObject({
    kind: z.literal('sweep'),
    title: z.string().max(500),
    lab: z.string().max(2000),
    steps: z.array(z.string().max(200)).max(50),
  }),
  /** A step begins: the impairment now in force, in words. */
  z.strictObject({
    kind: z.literal('step-start'),
    index: z.number().int().nonnegative(),
    label: z.string().max(200),
    impairment: z.string().max(2000),
    /** When it began (ms since the epoch): a page opened later runs the step's clock from here. */
    startedAt: z.number().nonnegative(),
  }),
  /** A step ended: its verdict, and the figures of its one-line summary. */
  z.strictObject({
    kind: z.literal('step-end'),
    index: z.number().int().nonnegative(),
    durationMs: z.number().nonnegative(),
    tcp: z.strictObject({
      outcome: z.enum(['identical', 'cut', 'failed', 'mismatch']),
      /** The outcome in the chart's words ("did not complete in time"). */
      text: z.string().max(100),
      uploadMbitPerS: z.number().nonnegative().nullable(),
      downloadMbitPerS: z.number().nonnegative().nullable(),
    }),
    udp: z.array(z.strictObject({ mode: z.string().max(20), deliveredPercent: z.number().min(0).max(100).nullable() })).max(3),
    /** Each UDP receiver's figures that have an expectation, with their band and verdict (lab/udp-figures.ts). */
    figures: z
      .array(
        z.strictObject({
          mode: z.string().max(20),
          receiver: z.number().int().positive(),
          name: z.string().max(20),
          text: z.string().max(40),
          band: z.string().max(60),
          verdict: z.enum(verdicts),
        }),
      )
      .max(3 * 32 * 5),
    summary: z.string().max(2000),
  }),
  /** How the step's TCP connection or one of its UDP receivers is doing, as the client told it. */
  z.strictObject({ kind: z.literal('sample'), index: z.number().int().nonnegative(), sample: liveSampleSchema }),
  /** A line of the demo's progress, as the terminal shows it. */
  z.strictObject({ kind: z.literal('line'), text: z.string().max(4000) }),
  /** The sweep is over: its verdict, and the report, the same HTML as the file the demo writes. */
  z.strictObject({ kind: z.literal('end'), ok: z.boolean(), reportHtml: z.string().max(16 * 1024 * 1024) }),
  /** The sweep stopped before its end (a signal, an error): why, in words. */
  z.strictObject({ kind: z.literal('stopped'), reason: z.string().max(4000) }),
]);

export type LiveEvent = z.infer<typeof liveEventSchema>;

/** How the guest's demo hands an event to the host's: one stderr line. */
export const LIVE_LINE_PREFIX = 'live: ';

export const liveLine = (event: LiveEvent) => `${LIVE_LINE_PREFIX}${JSON.stringify(event)}`;

/** The event of a `live: …` line, or null for any other line or for one that is not a valid event. */
export const parseLiveLine = (line: string): LiveEvent | null => prefixedJson(line, LIVE_LINE_PREFIX, liveEventSchema);
