import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkProfile, effectiveProfile, formatProfile, netemArguments, parseProfile, parseProfileWords } from './profile.ts';

describe('impairment profiles (tc-netem(8) syntax)', () => {
  it('parses every option, and formats back to the same profile', () => {
    const cases: [string, string[]][] = [
      ['loss 10%', ['loss', 'random', '10%']],
      ['loss random 5 25%', ['loss', 'random', '5%', '25%']],
      ['loss gemodel 1% 10% 70% 0.1%', ['loss', 'gemodel', '1%', '10%', '70%', '0.1%']],
      ['delay 100ms', ['delay', '100ms']],
      ['delay 100ms 10ms', ['delay', '100ms', '10ms']],
      ['delay 100ms 10ms 25%', ['delay', '100ms', '10ms', '25%']],
      ['delay 1s 500us distribution normal', ['delay', '1000ms', '500us', 'distribution', 'normal']],
      ['duplicate 1%', ['duplicate', '1%']],
      ['corrupt 0.1% 5%', ['corrupt', '0.1%', '5%']],
      ['delay 10ms reorder 25% 50%', ['delay', '10ms', 'reorder', '25%', '50%']],
      ['rate 10mbit', ['rate', '10mbit']],
      ['rate 2mbps', ['rate', '16mbit']],
      ['rate 1500kbit', ['rate', '1.5mbit']],
      ['rate 64bit', ['rate', '64bit']],
      ['loss 1% delay 20ms 5ms distribution pareto duplicate 2% corrupt 1% reorder 10% rate 500kbit', ['delay', '20ms', '5ms', 'distribution', 'pareto', 'loss', 'random', '1%', 'duplicate', '2%', 'corrupt', '1%', 'reorder', '10%', 'rate', '500kbit']],
    ];
    for (const [text, args] of cases) {
      const profile = parseProfile(text);
      assert.deepEqual(netemArguments(profile), args, text);
      assert.deepEqual(parseProfile(formatProfile(profile)), profile, `round trip of ${text}`);
    }
  });

  it('reads "none" and nothing as no impairment', () => {
    assert.deepEqual(parseProfile('none'), {});
    assert.deepEqual(parseProfile('  '), {});
    assert.equal(formatProfile({}), 'none');
  });

  it('refuses what netem would refuse, with LAB_ERR_BAD_PROFILE', () => {
    for (const bad of ['loss', 'loss 101%', 'loss ten', 'delay', 'delay 10', 'delay 10ms distribution normal', 'delay 10ms 1ms distribution gauss', 'reorder 10%', 'delay 0ms reorder 10%', 'rate fast', 'rate 0mbit', 'jitter 5ms', 'loss 1% loss 2%']) {
      assert.throws(() => parseProfile(bad), { code: 'LAB_ERR_BAD_PROFILE' }, bad);
    }
  });

  it('parses a part of a profile without the rules between words, and checks them once merged', () => {
    assert.deepEqual(parseProfileWords('reorder 25%'), { reorder: { percent: 25 } });
    assert.throws(() => checkProfile(parseProfileWords('reorder 25%')), { code: 'LAB_ERR_BAD_PROFILE', message: /reorder needs a delay/ });
    assert.deepEqual(checkProfile({ ...parseProfile('delay 10ms'), ...parseProfileWords('reorder 25%') }), parseProfile('delay 10ms reorder 25%'));
    assert.doesNotThrow(() => checkProfile(parseProfileWords('reorder 0%')), 'no reordering needs no delay (tc agrees)');
  });

  it('says what the kernel will hold: words at zero gone, a duplicate\'s correlation only with another one (tc 6.1)', () => {
    assert.deepEqual(effectiveProfile(parseProfile('loss 0% delay 0ms duplicate 0% corrupt 0% reorder 0%')), {});
    assert.deepEqual(effectiveProfile(parseProfile('loss 5% 0%')), parseProfile('loss 5%'));
    assert.deepEqual(effectiveProfile(parseProfile('duplicate 5% 25%')), parseProfile('duplicate 5%'));
    assert.deepEqual(effectiveProfile(parseProfile('duplicate 5% 25% loss 1% 10%')), parseProfile('duplicate 5% 25% loss 1% 10%'));
    assert.deepEqual(effectiveProfile({ delay: { ms: 10, correlation: 25 } }).delay, { ms: 10 }, 'a delay correlation without a jitter is not sent');
    assert.deepEqual(effectiveProfile(parseProfile('loss gemodel 5% 30%')), parseProfile('loss gemodel 5% 30%'));
  });
});
