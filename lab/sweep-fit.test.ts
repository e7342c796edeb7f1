import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseProfile } from '@lab/impairment';
import type { Lab } from './lab.ts';
import { lossSweep, parseSweep, planSweep } from './sweep-plan.ts';
import { fitToLab, type SweepSettings } from './sweep.ts';

const lossPlan = (percents: number[], profile = {}) => planSweep(parseSweep(lossSweep(percents)), profile);

const requested: SweepSettings = {
  plan: lossPlan([0, 1, 10]),
  direction: 'in',
  fileBytes: 1024,
  datagrams: 100,
  datagramBytes: 512,
  rate: 1000,
  receivers: 2,
  modes: ['unicast', 'broadcast', 'multicast'],
  tcpDeadlineMs: 0,
};
const noop = async () => ({ code: 0, output: '' });
const host = (name: string) => ({ name, exec: noop });
const containers: Pick<Lab, 'backend' | 'hosts' | 'modes'> = {
  backend: 'containers',
  hosts: { tcpServer: host('tcp-server'), udpRelay: host('udp-relay'), client: host('client') },
  modes: ['unicast', 'broadcast', 'multicast'],
};
const loopback: Pick<Lab, 'backend' | 'hosts' | 'modes'> = { backend: 'loopback', hosts: null, modes: ['unicast'] };

describe('fitting the sweep to the lab', () => {
  it('runs the whole request on a lab that can impair and carries every mode', () => {
    assert.deepEqual(fitToLab(containers, requested), { settings: requested, skipped: [] });
  });

  it('on a lab without a network of its own: only the unimpaired step and the modes it carries, each cut said', () => {
    const { settings, skipped } = fitToLab(loopback, requested);
    assert.deepEqual(settings.plan.steps.map((step) => step.label), ['0%']);
    assert.deepEqual(settings.plan.steps[0]!.profile, {});
    assert.deepEqual(settings.modes, ['unicast']);
    assert.equal(skipped.length, 2);
    assert.match(skipped[0]!, /^the loss steps 1%, 10%: impairing the network needs root/);
    assert.match(skipped[1]!, /^UDP broadcast and multicast:/);
    const delays = fitToLab(loopback, { ...requested, plan: planSweep(parseSweep('delay 0ms,20ms'), {}) });
    assert.deepEqual(delays.skipped[0], 'the delay steps 20ms: impairing the network needs root (network namespaces) or Docker');
  });

  it('says nothing was skipped when nothing had to be', () => {
    assert.deepEqual(fitToLab(loopback, { ...requested, plan: lossPlan([0]), modes: ['unicast'] }).skipped, []);
  });

  it('refuses a profile at every step it cannot apply, and a request with no mode it carries', () => {
    const everyStep = { ...requested, plan: lossPlan([0, 10], parseProfile('delay 5ms')) };
    assert.throws(() => fitToLab(loopback, everyStep), { code: 'LAB_ERR_IMPAIRMENT_UNSUPPORTED', message: /the loopback lab cannot impair/ });
    assert.throws(() => fitToLab(loopback, { ...requested, modes: ['multicast'] }), { code: 'LAB_ERR_CONFIG' });
  });
});
