// Every command's --help, and the exit status and error code of a bad option (no containers needed).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { programs } from '../lab/service-process.ts';
import { repoRoot } from './support/lab-containers.ts';

const mains = { 'tcp-server': programs['tcp-server'], 'udp-relay': programs['udp-relay'], client: programs.client };
const clientCommands = ['experiment', 'send', 'get', 'list', 'stat', 'delete', 'chat', 'udp-chat', 'stream', 'receive'];

function run(main: string, args: string[], env: Record<string, string> = {}) {
  return spawnSync(process.execPath, [main, ...args], { cwd: repoRoot, encoding: 'utf8', env: { ...process.env, ...env }, timeout: 20_000 });
}

describe('command lines', () => {
  for (const [name, main] of Object.entries(mains)) {
    it(`${name} --help lists every option with its environment variable and exits 0`, () => {
      const result = run(main, name === 'client' ? ['experiment', '--help'] : ['--help']);
      assert.equal(result.status, 0, result.stderr);
      assert.match(result.stdout, /^Usage: node services\//);
      assert.match(result.stdout, /--log-level <value> +log level: trace, debug, info, warn, error \(env LOG_LEVEL, default info\)/);
    });

    it(`${name} refuses an unknown flag with LAB_ERR_CONFIG and exit status 2`, () => {
      const result = run(main, ['--no-such-flag']);
      assert.equal(result.status, 2);
      assert.match(result.stderr, new RegExp(`^${name}: LAB_ERR_CONFIG: `));
    });
  }

  for (const command of clientCommands) {
    it(`client ${command} --help lists its options and the exit statuses`, () => {
      const result = run(mains.client, [command, '--help']);
      assert.equal(result.status, 0, result.stderr);
      assert.match(result.stdout, new RegExp(`^Usage: node services/client/src/main.ts ${command}`));
      assert.match(result.stdout, /--server <value> +TCP file server: HOST:PORT, \[IPV6\]:PORT or unix:\/path \(env LAB_SERVER|--relay <value> +UDP relay host \(env UDP_RELAY_HOST/);
      assert.match(result.stdout, /4 SHA-256 mismatch/);
    });
  }

  it('check:accuracy --help says what it compares and lists its options; a profile it cannot read is LAB_ERR_CONFIG, exit 2', () => {
    const help = run('scripts/check-accuracy.ts', ['--help']);
    assert.equal(help.status, 0, help.stderr);
    assert.match(help.stdout, /^Usage: npm run check:accuracy -- \[options\]/);
    assert.match(help.stdout, /--profiles <value> +tc-netem\(8\) profiles, separated by semicolons, .* \(env LAB_ACCURACY_PROFILES, default delay 10ms 2ms loss 5%; delay 12ms reorder 25%; duplicate 10%\)/);
    const bad = run('scripts/check-accuracy.ts', ['--profiles', 'delay 10ms; bogus 5%']);
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /^accuracy: LAB_ERR_CONFIG: invalid --profiles \/ LAB_ACCURACY_PROFILES: .*unknown word "bogus"/);
  });

  it('client --help lists every command', () => {
    const result = run(mains.client, ['--help']);
    assert.equal(result.status, 0);
    for (const command of clientCommands) assert.match(result.stdout, new RegExp(`^  ${command} +\\S`, 'm'));
  });

  it('container-entry --help lists the variables it reads, and exits 0', () => {
    const result = run(programs['container-entry'], ['--help']);
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stdout, /^Usage: node services\/container-entry\/src\/main\.ts SERVICE_MAIN/);
    for (const name of ['IMPAIR', 'IMPAIR_DIRECTION', 'LAB_DEV', 'LOG_LEVEL']) assert.match(result.stdout, new RegExp(`^  ${name} +\\S`, 'm'));
  });

  it('container-entry refuses an option or a missing program before it does anything as root: LAB_ERR_CONFIG, exit 2', () => {
    for (const [args, message] of [
      [['--no-such-flag'], /unknown option '--no-such-flag'/],
      [['services/none/src/main.ts'], /no such program: services\/none/],
      [[], /usage: /],
    ] as const) {
      const result = run(programs['container-entry'], [...args], { IMPAIR: 'loss 10%' });
      assert.equal(result.status, 2, result.stderr);
      assert.match(result.stderr, /^container-entry: LAB_ERR_CONFIG: /);
      assert.match(result.stderr, message);
    }
  });

  it('validates environment variables like flags, naming both', () => {
    const result = run(mains['tcp-server'], [], { TCP_SERVER_LISTEN: '0.0.0.0:70000' });
    assert.equal(result.status, 2);
    assert.match(result.stderr, /tcp-server: LAB_ERR_CONFIG: invalid --listen \/ TCP_SERVER_LISTEN: /);
  });

  it('client send needs its FILE argument', () => {
    const result = run(mains.client, ['send']);
    assert.equal(result.status, 2);
    assert.match(result.stderr, /client: LAB_ERR_CONFIG: send takes FILE/);
  });

  it('client refuses a datagram smaller than its header', () => {
    const result = run(mains.client, ['--datagram-bytes', '8']);
    assert.equal(result.status, 2);
    assert.match(result.stderr, /client: LAB_ERR_CONFIG: invalid --datagram-bytes \/ LAB_DATAGRAM_BYTES/);
  });

  it('client refuses an unknown command', () => {
    const result = run(mains.client, ['sned']);
    assert.equal(result.status, 2);
    assert.match(result.stderr, /client: LAB_ERR_CONFIG: unknown command "sned"/);
  });
});
