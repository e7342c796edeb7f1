import assert from 'node:assert/strict';
import type { ImpairmentProfile } from '@lab/impairment';
import type { SweepStep } from '@lab/results';
import { lossSweep, parseSweep, planSweep, type SweepPlan } from '../../lab/sweep-plan.ts';

/**
 * What the sender's interface sent while a UDP stream went out is the stream and nothing else: 42 bytes
 * of headers per packet (14 Ethernet + 20 IPv4 + 8 UDP), give or take a keepalive. Anything riding in
 * the window shows here: once, stale members of an earlier step's room (their leave lost on the impaired
 * path) were sent this step's stream, and the host's ICMP port-unreachable answers made "45 B/packet".
 */
export function assertUdpHeadersOnly(step: SweepStep): void {
  const { udp } = step.experiment;
  assert.ok(!('error' in udp), JSON.stringify(udp));
  for (const mode of udp.modes) {
    assert.ok(mode.wire, `${mode.mode}: no wire measurement at ${step.label}`);
    assert.equal(Math.round(mode.wire.headerBytesPerPacket), 42, `${mode.mode} at ${step.label}: ${JSON.stringify(mode.wire)}`);
  }
}

/** The steps of a loss sweep over `percents`, with `profile` at every step (for runSweep's settings). */
export function lossPlan(percents: number[], profile: ImpairmentProfile = {}): SweepPlan {
  return planSweep(parseSweep(lossSweep(percents)), profile);
}

/**
 * Whether a count lies in its 99% band widened by 30% of the band's half-width on each side (about the
 * 99.9% band where the count is near normal). The table marks a count outside the 99% band; a test suite
 * makes dozens of such checks per run, and at 99% a correct lab would fail one run in a few by chance.
 * What the widened band still catches is a model or a lab that is wrong, not unlucky.
 */
export function insideTestBand(value: number, [low, high]: [number, number]): boolean {
  const margin = Math.ceil(0.3 * ((high - low) / 2)) + 1;
  return value >= low - margin && value <= high + margin;
}
