import assert from 'node:assert/strict';
import type { ImpairmentProfile } from '@lab/impairment';
import type { SweepStep } from '../../lab/sweep-result.ts';
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
