// Inside a kernel that has netem (the user-mode Linux lab here; the host's own where it has netem): every
// profile word, in every direction, applied, changed from step to step, read back and cleared, on a fresh
// interface and after earlier steps. Run by tests/netem-kernel.test.ts, as root, never by the host's glob.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { directions, Impairer, parseInstalledNetem, parseProfile, type ImpairedHost } from '@lab/impairment';
import { netnsExec } from '../../lab/netns-lab.ts';

const SERVER = 'netemtest-server';
const PEER = 'netemtest-peer';

function ip(...args: string[]): void {
  const run = spawnSync('ip', args, { encoding: 'utf8' });
  assert.equal(run.status, 0, `ip ${args.join(' ')}: ${run.stderr}`);
}

/** Two namespaces joined by a veth pair, eth0 in each: a fresh interface every time. */
function freshPair(): void {
  for (const ns of [SERVER, PEER]) spawnSync('ip', ['netns', 'del', ns]);
  ip('netns', 'add', SERVER);
  ip('netns', 'add', PEER);
  ip('link', 'add', 'eth0', 'netns', SERVER, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', PEER);
  for (const [ns, address] of [[SERVER, '10.77.0.1/24'], [PEER, '10.77.0.2/24']] as const) {
    ip('-n', ns, 'addr', 'add', address, 'dev', 'eth0');
    ip('-n', ns, 'link', 'set', 'eth0', 'up');
  }
}

const server: ImpairedHost = { name: 'server', exec: netnsExec(SERVER, '/') };
const tc = async (...args: string[]) => (await server.exec(['tc', ...args])).output;

/** Every word netem has, with its options: what a user may type into --profile or --sweep (applied both ways). */
const everyWord = [
  'loss 10%',
  'loss random 10% 25%',
  'loss gemodel 5% 30%',
  'loss gemodel 1% 10% 70% 0.1%',
  'delay 20ms',
  'delay 20ms 5ms',
  'delay 20ms 5ms 25%',
  'delay 20ms 5ms distribution normal',
  'delay 20ms 5ms distribution pareto',
  'delay 20ms 5ms distribution paretonormal',
  'duplicate 5%',
  'duplicate 5% 25% loss 1% 10%',
  'corrupt 1%',
  'corrupt 1% 10%',
  'delay 10ms reorder 25%',
  'delay 10ms reorder 25% 50%',
  'rate 10mbit',
  'rate 1500kbit',
  'delay 10ms 2ms loss 1% duplicate 1% corrupt 1% reorder 5% rate 100mbit',
];

/** Every word again, fewer profiles: into and out of the host alone (each process costs in a user-mode kernel). */
const everyWordTogether = [
  'loss random 10% 25% duplicate 5% 25%',
  'loss gemodel 1% 10% 70% 0.1% corrupt 1% 10%',
  'delay 20ms 5ms 25% distribution paretonormal reorder 25% 50%',
  'delay 20ms 5ms distribution normal rate 1500kbit',
  'delay 10ms 2ms loss 1% duplicate 1% corrupt 1% reorder 5% rate 100mbit',
];

/** What each device's root holds now: the interface's egress and the ifb that holds its ingress. */
async function installed() {
  const ifb = await server.exec(['tc', '-j', 'qdisc', 'show', 'dev', 'ifb0']);
  return { egress: parseInstalledNetem(await tc('-j', 'qdisc', 'show', 'dev', 'eth0')), ingress: ifb.code === 0 ? parseInstalledNetem(ifb.output) : null, ifb: ifb.code === 0 };
}

describe('netem in every direction, on a kernel that has it', { timeout: 300_000 }, () => {
  before(freshPair);
  after(() => {
    for (const ns of [SERVER, PEER]) spawnSync('ip', ['netns', 'del', ns]);
  });

  it('is the netem backend here', async () => {
    const impairer = await Impairer.create([server]);
    assert.equal(impairer.backend, 'netem', impairer.reason);
  });

  for (const direction of directions) {
    it(`applies every word ${direction === 'in' ? 'into' : direction === 'out' ? 'out of' : 'into and out of'} the host, each read back as asked: on a fresh interface, after earlier steps, and cleared`, async () => {
      const impairer = await Impairer.create([server], { direction });
      for (const [i, text] of (direction === 'both' ? everyWord : everyWordTogether).entries()) {
        // Some words on a fresh interface, the rest after the words before them.
        if (i % 4 === 0) freshPair();
        const profile = parseProfile(text);
        // apply() reads each device back (tc -j qdisc show) and throws LAB_ERR_IMPAIRMENT_MISMATCH on any difference.
        await impairer.apply(profile);
        const now = await installed();
        assert.equal(now.egress !== null, direction !== 'in', `${text}: egress ${JSON.stringify(now)}`);
        assert.equal(now.ingress !== null, direction !== 'out', `${text}: ingress ${JSON.stringify(now)}`);
      }
      assert.match(Object.values(await impairer.readBack()).join('\n'), /qdisc netem/);
      await impairer.apply(parseProfile('none'));
      assert.deepEqual(await installed(), { egress: null, ingress: null, ifb: false }, 'cleared: no netem, no ifb');
      assert.doesNotMatch(await tc('qdisc', 'show', 'dev', 'eth0'), /ingress|netem/);
    });
  }

  it('moves a profile from one direction to another without leaving the old one behind', async () => {
    freshPair();
    const profile = parseProfile('delay 20ms loss 5%');
    for (const direction of ['both', 'in', 'out', 'both', 'out', 'in'] as const) {
      await (await Impairer.create([server], { direction })).apply(profile);
      const now = await installed();
      assert.equal(now.egress !== null, direction !== 'in', `${direction}: ${JSON.stringify(now)}`);
      assert.equal(now.ingress !== null, direction !== 'out', `${direction}: ${JSON.stringify(now)}`);
    }
  });

  it('needs the fresh start: tc qdisc replace keeps the options it is not given, which the read-back catches', async () => {
    freshPair();
    await tc('qdisc', 'add', 'dev', 'eth0', 'root', 'netem', 'delay', '10ms', 'corrupt', '1%', 'reorder', '25%', 'rate', '10mbit');
    await tc('qdisc', 'replace', 'dev', 'eth0', 'root', 'netem', 'delay', '10ms');
    const kept = parseInstalledNetem(await tc('-j', 'qdisc', 'show', 'dev', 'eth0'));
    assert.ok(kept?.corrupt && kept.rate, `replace kept corrupt and rate: ${JSON.stringify(kept)}`);
    // The lab's apply starts afresh, and what it reads back is exactly the profile.
    await (await Impairer.create([server], { direction: 'out' })).apply(parseProfile('delay 10ms'));
    assert.deepEqual(parseInstalledNetem(await tc('-j', 'qdisc', 'show', 'dev', 'eth0')), { delay: { ms: 10 } });
  });
});
