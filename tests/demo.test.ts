// The main command, as a newcomer runs it: `npm run demo` must print both results, exit 0 and leave
// no container or network of its Compose project behind.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { repoRoot } from './support/lab-containers.ts';

/** IDs of containers or networks whose name contains `name` (Compose prefixes both with the project). */
function dockerList(kind: 'ps' | 'network', name: string): string[] {
  const args = kind === 'ps' ? ['ps', '-a', '-q', '--filter', `name=${name}`] : ['network', 'ls', '-q', '--filter', `name=${name}`];
  const result = spawnSync('docker', args, { encoding: 'utf8' });
  assert.equal(result.status, 0, result.stderr);
  return result.stdout.split('\n').filter(Boolean);
}

describe('npm run demo', { timeout: 600_000 }, () => {
  it('runs the experiment on the composed lab, prints TCP and UDP results, and cleans up', () => {
    const result = spawnSync('npm', ['run', '--silent', 'demo'], { cwd: repoRoot, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    const output = `${result.stdout}\n${result.stderr}`;
    assert.equal(result.status, 0, output);
    assert.match(result.stdout, /IDENTICAL: every byte arrived, in order/);
    assert.match(result.stdout, /^UDP +numbered datagrams of 512 B at 2000\/s/m);
    for (const mode of ['unicast', 'broadcast', 'multicast']) assert.match(result.stdout, new RegExp(`^  ${mode} \\(room \\d+\\): 1000 sent`, 'm'));
    assert.match(result.stdout, /^experiment: ok$/m);
    // The servers' lifecycle is shown: listen, accept, close, and the relay's counters at shutdown.
    assert.match(output, /listening on tcp 0\.0\.0\.0:9000/);
    assert.match(output, /accepted \d+\.\d+\.\d+\.\d+:\d+/);
    assert.match(output, /udp-relay stats/);
    assert.deepEqual(dockerList('ps', 'tcp-udp-lab-demo'), [], 'containers left behind');
    assert.deepEqual(dockerList('network', 'tcp-udp-lab-demo'), [], 'networks left behind');
  });
});
