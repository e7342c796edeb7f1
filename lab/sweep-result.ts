import { z } from 'zod';
import { directions } from '@lab/impairment';
import { deliveryModes } from '@lab/protocol';
import { experimentReportSchema } from '../services/client/src/report-schema.ts';
import { labBackends } from './lab.ts';

/**
 * The contract of a sweep's result (docs/sweep-result.md; the JSON Schema beside it is generated with
 * `npm run schema`): what the lab set up, and for each loss step what the kernel had installed, the
 * client's own report (the `tcp-udp-lab/experiment` document, unchanged), the server's retransmissions,
 * and what the models expected. `version` changes when a field changes meaning.
 */
const count = z.number().int().nonnegative();
/** Null where a model has nothing to say (no loss: it predicts no limit; no RTT measured). */
const rate = z.number().nonnegative().nullable();

const tcpDirection = z.strictObject({
  /** The loss the data segments of this direction met (ACKs go the other way). */
  dataLossPercent: z.number().min(0).max(100),
  measuredMbitPerS: z.number().nonnegative().nullable(),
  /** Mathis et al. 1997: Reno in steady congestion avoidance, no timeouts. */
  mathisMbitPerS: rate,
  /** RFC 5348 section 3.1 (Padhye et al. 1998), with the connection's own RTO. */
  rfc5348MbitPerS: rate,
});

const receiverCheck = z.strictObject({
  receiver: z.number().int().positive(),
  lost: count,
  sent: count,
  /** The counts of lost datagrams that a correct lab shows 95% of the time at least (exact binomial). */
  band95: z.tuple([count, count]),
  /** The same at 99%: the band `withinBand` and the table use, so that a sweep of 15 checks rarely cries wolf. */
  band99: z.tuple([count, count]),
  withinBand: z.boolean(),
});

const step = z.strictObject({
  lossPercent: z.number().min(0).max(100),
  /** The whole profile applied to each impaired host, in tc-netem(8) words. */
  profile: z.string(),
  /** What each host's kernel said was installed (tc qdisc show, or iptables -S), read back after applying. */
  installed: z.record(z.string(), z.string()),
  durationMs: z.number().nonnegative(),
  experiment: experimentReportSchema,
  /** The TCP server's retransmitted segments during the step (its /proc/net/snmp): the download's. */
  serverRetransmittedSegments: count.nullable(),
  tcp: z.strictObject({ upload: tcpDirection, download: tcpDirection }),
  udp: z.array(
    z.strictObject({
      mode: z.enum(deliveryModes),
      /** Loss per datagram expected from the profile and the impaired points the path crosses. */
      expectedLossPercent: z.number().min(0).max(100),
      receivers: z.array(receiverCheck),
    }),
  ),
});

export const sweepResultSchema = z.strictObject({
  schema: z.literal('tcp-udp-lab/sweep'),
  version: z.literal(1),
  startedAt: z.string(),
  /** Which lab ran it, and what it could not do (`limits`) and so left out of the request (`skipped`). */
  lab: z.strictObject({ backend: z.enum(labBackends), description: z.string(), limits: z.array(z.string()), skipped: z.array(z.string()) }),
  /** What the TCP models were given: the medians of the steps' connection figures (ss -ti). */
  models: z.strictObject({ link: z.strictObject({ rttMs: z.number().nonnegative(), rtoMs: z.number().nonnegative(), mss: count }).nullable() }),
  /** Null where the lab cannot impair its network (loopback, without root): only the 0% step ran. */
  impairment: z.strictObject({
    backend: z.enum(['netem', 'iptables']),
    reason: z.string(),
    direction: z.enum(directions),
    hosts: z.array(z.string()),
    /** How many impaired points a datagram crosses from the sender through the relay to a receiver. */
    udpPathHops: count,
    /** Whether TCP was cut into one-segment packets, so that one drop is one segment (see README). */
    segmentSizedPackets: z.boolean(),
  }).nullable(),
  settings: z.strictObject({
    lossPercents: z.array(z.number().min(0).max(100)),
    extraProfile: z.string(),
    fileBytes: count,
    datagrams: count,
    datagramBytes: count,
    rate: z.number().positive(),
    receivers: count,
    modes: z.array(z.enum(deliveryModes)),
    tcpDeadlineMs: count,
  }),
  steps: z.array(step),
  /** Every step's TCP copy identical (or cut at its time limit) and its UDP streams measured. */
  ok: z.boolean(),
});

export type SweepResult = z.infer<typeof sweepResultSchema>;
export type SweepStep = z.infer<typeof step>;
export type TcpDirectionResult = z.infer<typeof tcpDirection>;

export function sweepResultJsonSchema(): object {
  return { title: 'tcp-udp-lab sweep result, version 1', ...z.toJSONSchema(sweepResultSchema) };
}
