import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseProfile } from '@lab/impairment';
import { planFromOptions } from './sweep-options.ts';
import { lossSweep, parseSweep, planSweep } from './sweep-plan.ts';

const plan = (sweep: string, profile = '') => planSweep(parseSweep(sweep), parseProfile(profile));

describe('what a sweep varies', () => {
  it('sweeps any netem word, each value on an axis in its unit', () => {
    assert.deepEqual(plan('delay 0ms,10ms,50ms,200ms').steps.map((s) => s.value), [0, 10, 50, 200]);
    assert.deepEqual(plan('rate 100mbit,10mbit,1mbit').steps.map((s) => s.value), [100, 10, 1]);
    assert.deepEqual(plan('duplicate 0%,5%,20%').steps.map((s) => [s.label, s.value]), [['0%', 0], ['5%', 5], ['20%', 20]]);
    assert.deepEqual(plan('corrupt 0%, 1%, 5%').steps.map((s) => s.label), ['0%', '1%', '5%']);
    assert.deepEqual(plan('reorder 0%,10%,25%,50%', 'delay 10ms').steps[2]!.profile, parseProfile('delay 10ms reorder 25%'));
    assert.deepEqual(plan('delay 10ms 5ms,20ms 10ms').steps[1]!.profile, parseProfile('delay 20ms 10ms'));
    // Gilbert-Elliott steps line up by their stationary loss.
    assert.ok(Math.abs(plan('loss gemodel 5% 30%').steps[0]!.value - 100 / 7) < 1e-9);
    assert.equal(plan('loss 0%,1%').text, 'loss 0%,1%');
  });

  it('keeps --loss as the short form', () => {
    assert.equal(lossSweep([0, 1, 5]), 'loss 0%,1%,5%');
    assert.deepEqual(planFromOptions({ loss: [0, 1, 5], profile: {} }).steps.map((s) => s.value), [0, 1, 5]);
    assert.deepEqual(planFromOptions({ profile: {} }).steps.map((s) => s.value), [0, 1, 5, 10, 20, 30], 'the default');
    assert.throws(() => planFromOptions({ sweep: parseSweep('delay 0ms'), loss: [1], profile: {} }), { code: 'LAB_ERR_CONFIG' });
  });

  it('puts every step together with the profile, and combines two random losses as two points in a row would drop', () => {
    const steps = plan('loss 0%,10%', 'loss 5% delay 20ms').steps;
    assert.deepEqual(steps[0]!.profile, parseProfile('loss 5% delay 20ms'));
    assert.deepEqual(steps[1]!.profile, parseProfile('loss 14.5% delay 20ms'));
    assert.match(steps[1]!.note!, /the profile's loss 5% and the step's 10%, independently: 14\.5% per point/);
    assert.equal(steps[0]!.note !== null, true);
  });

  it('never silently replaces a word the profile gives: anything else given twice is refused', () => {
    assert.throws(() => plan('delay 0ms,10ms', 'delay 5ms'), { code: 'LAB_ERR_BAD_PROFILE', message: /--profile gives delay 5ms and --sweep sweeps delay/ });
    assert.throws(() => plan('loss 0%,10%', 'loss gemodel 5% 30%'), { code: 'LAB_ERR_BAD_PROFILE' });
    assert.throws(() => plan('loss 0%,10% 25%', 'loss 5%'), { code: 'LAB_ERR_BAD_PROFILE' });
  });

  it('runs a profile\'s own loss as the one step where nothing says what to sweep and it cannot be combined', () => {
    const ge = planFromOptions({ profile: parseProfile('loss gemodel 5% 30% delay 10ms') });
    assert.equal(ge.steps.length, 1);
    assert.equal(ge.steps[0]!.label, 'gemodel 5% 30%');
    assert.deepEqual(ge.steps[0]!.profile, parseProfile('loss gemodel 5% 30% delay 10ms'));
    assert.equal(planFromOptions({ profile: parseProfile('loss 5%') }).steps.length, 6, 'a plain loss combines with the default sweep');
  });

  it('refuses what is not a sweep, and reorder without a delay, with LAB_ERR_BAD_PROFILE', () => {
    for (const bad of ['', 'delay', 'jitter 1ms,2ms', 'delay 1ms,,2ms', 'rate 0mbit', 'loss 101%']) assert.throws(() => parseSweep(bad), { code: 'LAB_ERR_BAD_PROFILE' }, bad);
    assert.throws(() => parseSweep('delay 10ms,20ms loss 5%'), { code: 'LAB_ERR_BAD_PROFILE', message: /also gives loss: a sweep varies one word/ });
    assert.throws(() => plan('reorder 0%,25%'), { code: 'LAB_ERR_BAD_PROFILE', message: /reorder needs a delay/ });
  });
});
