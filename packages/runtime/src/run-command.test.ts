import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { runCommand } from './run-command.ts';

describe('runCommand', () => {
  it('gives the exit status, stdout apart, and stdout with stderr as output', async () => {
    const result = await runCommand(['sh', '-c', 'echo out; echo err >&2; exit 3']);
    assert.equal(result.code, 3);
    assert.equal(result.stdout, 'out\n');
    assert.match(result.output, /out/);
    assert.match(result.output, /err/);
  });

  it('says 127 for a command that cannot start, and why', async () => {
    const result = await runCommand(['/nonexistent/command']);
    assert.equal(result.code, 127);
    assert.match(result.output, /ENOENT/);
  });

  it('kills a command that runs too long: 124, and says so', async () => {
    const started = Date.now();
    const result = await runCommand(['sleep', '10'], { timeoutMs: 200 });
    assert.equal(result.code, 124);
    assert.match(result.output, /timed out after 0.2 s/);
    assert.ok(Date.now() - started < 5000);
  });

  it('runs with the environment and folder it is given', async () => {
    const result = await runCommand(['sh', '-c', 'echo "$ONLY" "$HOME"; pwd'], { env: { ONLY: 'this', PATH: process.env.PATH }, cwd: '/tmp' });
    // HOME is not passed on: only what was given.
    assert.equal(result.stdout, 'this \n/tmp\n');
  });

  it('hands each stderr line to onStderrLine as it comes, and keeps the ones it takes out of output', async () => {
    const seen: string[] = [];
    const result = await runCommand(['sh', '-c', 'echo "sample: 1" >&2; echo plain >&2; printf "sample: 2" >&2; echo out'], {
      onStderrLine: (line) => {
        seen.push(line);
        return line.startsWith('sample: ');
      },
    });
    assert.deepEqual(seen, ['sample: 1', 'plain', 'sample: 2']);
    assert.equal(result.code, 0);
    assert.doesNotMatch(result.output, /sample/);
    assert.match(result.output, /plain/);
    assert.match(result.output, /out/);
  });
});
