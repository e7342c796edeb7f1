import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { hopsThrough, iptablesSteps, netemOnly, netemSteps, readBackSteps, segmentSizedPacketSteps } from './commands.ts';
import { parseProfile } from './profile.ts';

const target = { dev: 'eth0', ifb: 'ifb0' };

describe('impairment commands', () => {
  it('installs netem afresh on egress and, through an ifb device, on ingress (replace keeps old options; filter replace answers "File exists")', () => {
    const steps = netemSteps(parseProfile('loss 5% 25% delay 20ms 5ms'), target).map((s) => s.argv.join(' '));
    assert.deepEqual(steps, [
      'tc qdisc del dev eth0 root',
      'tc qdisc add dev eth0 root netem delay 20ms 5ms loss random 5% 25%',
      'tc qdisc del dev eth0 ingress',
      'ip link add ifb0 type ifb',
      'ip link set ifb0 up',
      'tc qdisc del dev ifb0 root',
      'tc qdisc add dev eth0 handle ffff: ingress',
      'tc filter add dev eth0 parent ffff: protocol all prio 1 matchall action mirred egress redirect dev ifb0',
      'tc qdisc add dev ifb0 root netem delay 20ms 5ms loss random 5% 25%',
    ]);
    assert.ok(!steps.some((line) => line.includes('replace')));
  });

  it('tolerates, when deleting, exactly what tc and ip answer for something that is not there (each seen on a netem kernel)', () => {
    const deletions = netemSteps(parseProfile('loss 5%'), target).filter((s) => s.argv.includes('del'));
    for (const answer of [
      'Error: Cannot delete qdisc with handle of zero.',
      'Error: Cannot find specified qdisc on specified device.',
      'Error: Invalid handle.',
      'Cannot find device "ifb0"',
    ]) {
      assert.ok(deletions.some((s) => s.tolerate?.test(answer)), answer);
    }
    for (const step of deletions) assert.equal(step.tolerate?.test('RTNETLINK answers: Operation not permitted'), false, step.argv.join(' '));
  });

  it('removes netem for an empty profile, tolerating what is not there', () => {
    const steps = netemSteps(parseProfile('none'), target);
    assert.deepEqual(steps.map((s) => s.argv.join(' ')), ['tc qdisc del dev eth0 root', 'tc qdisc del dev eth0 ingress', 'ip link del ifb0']);
    assert.ok(steps.every((s) => s.tolerate?.test('Error: Cannot delete qdisc with handle of zero.') || s.tolerate?.test('Cannot find device "ifb0"')));
  });

  it('drops at random on input and output with iptables, in its own chain, jumps added once', () => {
    const steps = iptablesSteps(parseProfile('loss 10%'), target);
    assert.deepEqual(steps.map((s) => s.argv.join(' ')), [
      'iptables -w -N LAB-IMPAIR',
      'iptables -w -F LAB-IMPAIR',
      'iptables -w -I INPUT -i eth0 -j LAB-IMPAIR',
      'iptables -w -I OUTPUT -o eth0 -j LAB-IMPAIR',
      'iptables -w -A LAB-IMPAIR -m statistic --mode random --probability 0.1 -j DROP',
    ]);
    assert.deepEqual(steps[2]!.unless, ['iptables', '-w', '-C', 'INPUT', '-i', 'eth0', '-j', 'LAB-IMPAIR']);
    assert.equal(iptablesSteps(parseProfile('loss 0.5%'), target).at(-1)!.argv.join(' ').includes('--probability 0.005 '), true);
    assert.equal(iptablesSteps(parseProfile('none'), target).length, 4, 'no loss: an empty chain');
  });

  it('impairs one direction only when asked, and removes the other direction\'s netem or jump', () => {
    const netemIn = netemSteps(parseProfile('loss 5%'), { ...target, direction: 'in' }).map((s) => s.argv.join(' '));
    assert.equal(netemIn[0], 'tc qdisc del dev eth0 root');
    assert.equal(netemIn.at(-1), 'tc qdisc add dev ifb0 root netem loss random 5%');
    assert.ok(!netemIn.some((line) => line.includes('dev eth0 root netem')));
    const netemOut = netemSteps(parseProfile('loss 5%'), { ...target, direction: 'out' }).map((s) => s.argv.join(' '));
    assert.deepEqual(netemOut, ['tc qdisc del dev eth0 root', 'tc qdisc add dev eth0 root netem loss random 5%', 'tc qdisc del dev eth0 ingress', 'ip link del ifb0']);
    const iptablesIn = iptablesSteps(parseProfile('loss 5%'), { ...target, direction: 'in' });
    assert.equal(iptablesIn[2]!.argv.join(' '), 'iptables -w -I INPUT -i eth0 -j LAB-IMPAIR');
    assert.equal(iptablesIn[3]!.argv.join(' '), 'iptables -w -D OUTPUT -o eth0 -j LAB-IMPAIR');
    assert.ok(iptablesIn[3]!.tolerate?.test('iptables: Bad rule (does a matching rule exist in that chain?).'));
    const iptablesOut = iptablesSteps(parseProfile('loss 5%'), { ...target, direction: 'out' });
    assert.equal(iptablesOut[2]!.argv.join(' '), 'iptables -w -D INPUT -i eth0 -j LAB-IMPAIR');
    assert.equal(iptablesOut[3]!.argv.join(' '), 'iptables -w -I OUTPUT -o eth0 -j LAB-IMPAIR');
    assert.deepEqual([hopsThrough('in'), hopsThrough('out'), hopsThrough('both')], [1, 1, 2]);
  });

  it('cuts TCP into one-segment packets', () => {
    assert.deepEqual(segmentSizedPacketSteps(target).map((s) => s.argv.join(' ')), ['ip link set dev eth0 gso_max_segs 1']);
  });

  it('refuses, by name, every option the iptables backend cannot apply', () => {
    for (const [profile, named] of [
      ['delay 20ms', /delay needs tc netem/],
      ['loss 5% 25%', /loss correlation needs tc netem/],
      ['loss gemodel 1% 10%', /loss gemodel needs tc netem/],
      ['loss 5% duplicate 1% rate 1mbit', /duplicate, rate need tc netem/],
    ] as const) {
      assert.throws(() => iptablesSteps(parseProfile(profile), target), { code: 'LAB_ERR_IMPAIRMENT_UNSUPPORTED', message: named }, profile);
    }
  });

  it('needs netem only for what does something: words at zero need nothing', () => {
    assert.deepEqual(netemOnly(parseProfile('loss 10%')), []);
    assert.deepEqual(netemOnly(parseProfile('delay 0ms loss 5%')), []);
    assert.deepEqual(netemOnly(parseProfile('duplicate 0% corrupt 0%')), []);
    assert.deepEqual(netemOnly(parseProfile('delay 10ms reorder 25%')), ['delay', 'reorder']);
    assert.deepEqual(netemOnly(parseProfile('loss gemodel 5% 30%')), ['loss gemodel']);
    assert.deepEqual(netemOnly(parseProfile('loss 10% 25%')), ['loss correlation']);
    assert.equal(iptablesSteps(parseProfile('delay 0ms loss 5%'), target).length, 5, 'a delay of 0 is no delay: iptables can do the rest');
  });

  it('reads back what the kernel has installed', () => {
    assert.deepEqual(readBackSteps('netem', target).map((s) => s.argv.join(' ')), ['tc qdisc show dev eth0', 'tc qdisc show dev ifb0']);
    assert.deepEqual(readBackSteps('iptables', target).map((s) => s.argv.join(' ')), ['iptables -w -S INPUT', 'iptables -w -S OUTPUT', 'iptables -w -S LAB-IMPAIR']);
  });
});
