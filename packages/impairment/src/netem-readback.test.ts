import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseInstalledNetem, profileDifferences } from './netem-readback.ts';
import { parseProfile } from './profile.ts';

// `tc -j qdisc show dev DEV` as iproute2 6.1 printed it on a Linux 6.1 netem kernel (the user-mode
// Linux lab), for the profiles named beside each.
const full =
  '[{"kind":"netem","handle":"8001:","root":true,"refcnt":2,"options":{"limit":1000,"delay":{"delay":0.01,"jitter":0.005,"correlation":0.2},"loss-gemodel":{"p":0.05,"r":0.3,"1-h":1,"1-k":0},"duplicate":{"duplicate":0.01,"correlation":0.1},"reorder":{"reorder":0.25,"correlation":0.5},"corrupt":{"corrupt":0.01,"correlation":0},"rate":{"rate":1250000,"packetoverhead":0,"cellsize":0,"celloverhead":0},"ecn":false,"gap":1}}]';
const randomLoss =
  '[{"kind":"netem","handle":"8002:","root":true,"refcnt":2,"options":{"limit":1000,"delay":{"delay":0.01,"jitter":0,"correlation":0},"loss-random":{"loss":0.1,"correlation":0.25},"rate":{"rate":187500,"packetoverhead":0,"cellsize":0,"celloverhead":0},"ecn":false,"gap":0}}]';
const nothing = '[{"kind":"netem","handle":"8003:","root":true,"refcnt":2,"options":{"limit":1000,"ecn":false,"gap":0}}]';
const rounded = '[{"kind":"netem","handle":"8004:","root":true,"refcnt":2,"options":{"limit":1000,"delay":{"delay":0.001499,"jitter":0.000249,"correlation":0},"ecn":false,"gap":0}}]';
const ingressOnly = '[{"kind":"ingress","handle":"ffff:","parent":"ffff:fff1","options":{}}]';

describe('reading back what netem holds', () => {
  it('reads every word from tc\'s JSON', () => {
    assert.deepEqual(parseInstalledNetem(full), {
      delay: { ms: 10, jitterMs: 5, correlation: 20 },
      loss: { kind: 'gemodel', p: 5, r: 30, oneMinusH: 100, oneMinusK: 0 },
      duplicate: { percent: 1, correlation: 10 },
      reorder: { percent: 25, correlation: 50 },
      corrupt: { percent: 1 },
      rate: { bitsPerSecond: 10_000_000 },
    });
    assert.deepEqual(parseInstalledNetem(randomLoss), { delay: { ms: 10 }, loss: { kind: 'random', percent: 10, correlation: 25 }, rate: { bitsPerSecond: 1_500_000 } });
    assert.deepEqual(parseInstalledNetem(nothing), {});
    assert.equal(parseInstalledNetem(ingressOnly), null, 'no netem at the root');
    assert.equal(parseInstalledNetem('[]'), null);
    assert.equal(parseInstalledNetem(''), null);
  });

  it('finds nothing different where the kernel holds what was asked, within tc\'s own rounding', () => {
    assert.deepEqual(profileDifferences(parseProfile('delay 10ms 5ms 20% distribution normal loss gemodel 5% 30% duplicate 1% 10% reorder 25% 50% corrupt 1% rate 10mbit'), parseInstalledNetem(full)), []);
    assert.deepEqual(profileDifferences(parseProfile('delay 10ms loss 10% 25% rate 1500kbit'), parseInstalledNetem(randomLoss)), []);
    assert.deepEqual(profileDifferences(parseProfile('delay 1.5ms 250us'), parseInstalledNetem(rounded)), []);
    assert.deepEqual(profileDifferences(parseProfile('loss 0% delay 0ms'), parseInstalledNetem(nothing)), [], 'zero is nothing');
    assert.deepEqual(profileDifferences({}, null), []);
    assert.deepEqual(profileDifferences(parseProfile('delay 0ms 5ms'), parseInstalledNetem(nothing)), [], 'tc prints no delay of 0, jitter or not');
  });

  it('names each word that differs: left over from a step before, missing, or another value', () => {
    assert.deepEqual(profileDifferences(parseProfile('delay 10ms loss 10% 25%'), parseInstalledNetem(randomLoss)), ['rate: asked none, the kernel has rate 1.5mbit']);
    assert.deepEqual(profileDifferences(parseProfile('delay 10ms loss 10% 25% rate 1500kbit duplicate 1%'), parseInstalledNetem(randomLoss)), ['duplicate: asked duplicate 1%, the kernel has none']);
    assert.deepEqual(profileDifferences(parseProfile('delay 20ms loss 10% 25% rate 1500kbit'), parseInstalledNetem(randomLoss)), ['delay: asked delay 20ms, the kernel has delay 10ms']);
    assert.deepEqual(profileDifferences(parseProfile('delay 10ms loss 10% rate 1500kbit'), parseInstalledNetem(randomLoss)), ['loss: asked loss random 10%, the kernel has loss random 10% 25%']);
    assert.deepEqual(profileDifferences(parseProfile('loss 5%'), null), ['loss: asked loss random 5%, the kernel has none']);
  });

  it('stops at what is not tc\'s answer, with LAB_ERR_IMPAIRMENT_MISMATCH', () => {
    for (const bad of ['qdisc netem 8001: root', '{"kind":"netem"}', '[{"kind":"netem","handle":"1:","root":true,"options":{"limit":"x"}}]']) {
      assert.throws(() => parseInstalledNetem(bad), { code: 'LAB_ERR_IMPAIRMENT_MISMATCH' }, bad);
    }
  });
});
