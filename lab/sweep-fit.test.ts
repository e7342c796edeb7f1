import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseProfile } from '@lab/impairment';
import type { Lab } from './lab.ts';
import { fitToLab, type SweepSettings } from './sweep.ts';

const requested: SweepSettings = {
  lossPercents: [0, 1, 10],
  extraProfile: {},
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
  hosts: { servers: [host('tcp-server'), host('udp-relay')], client: host('client') },
  modes: ['unicast', 'broadcast', 'multicast'],
};
const loopback: Pick<Lab, 'backend' | 'hosts' | 'modes'> = { backend: 'loopback', hosts: null, modes: ['unicast'] };

describe('fitting the sweep to the lab', () => {
  it('runs the whole request on a lab that can impair and carries every mode', () => {
    assert.deepEqual(fitToLab(containers, requested), { settings: requested, skipped: [] });
  });

  it('on a lab without a network of its own: only the unimpaired step and the modes it carries, each cut said', () => {
    const { settings, skipped } = fitToLab(loopback, requested);
    assert.deepEqual(settings.lossPercents, [0]);
    assert.deepEqual(settings.modes, ['unicast']);
    assert.equal(skipped.length, 2);
    assert.match(skipped[0]!, /^the loss steps 1, 10%: impairing the network needs root/);
    assert.match(skipped[1]!, /^UDP broadcast and multicast:/);
  });

  it('says nothing was skipped when nothing had to be', () => {
    assert.deepEqual(fitToLab(loopback, { ...requested, lossPercents: [0], modes: ['unicast'] }).skipped, []);
  });

  it('refuses an explicit profile it cannot apply, and a request with no mode it carries', () => {
    assert.throws(() => fitToLab(loopback, { ...requested, extraProfile: parseProfile('loss 5%') }), { code: 'LAB_ERR_IMPAIRMENT_UNSUPPORTED', message: /the loopback lab cannot impair/ });
    assert.throws(() => fitToLab(loopback, { ...requested, modes: ['multicast'] }), { code: 'LAB_ERR_CONFIG' });
  });
});
