import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { z } from 'zod';
import { formatHelp, optionArgs, parseOptions, portSchema, type OptionSpecs } from './options.ts';

const specs = {
  port: { description: 'port', env: 'X_PORT', default: '9000', schema: portSchema },
  name: { description: 'name', env: 'X_NAME', schema: z.string().optional() },
  json: { description: 'json output', env: 'X_JSON', boolean: true, schema: z.boolean().default(false) },
} satisfies OptionSpecs;

describe('parseOptions', () => {
  it('takes a flag over an environment variable over the default', () => {
    const values = (env: Record<string, string>, argv: string[] = []) => {
      const parsed = parseOptions(specs, argv, env);
      assert.equal(parsed.help, false);
      return parsed.help ? undefined : parsed.values;
    };
    assert.equal(values({})?.port, 9000);
    assert.equal(values({ X_PORT: '9100' })?.port, 9100);
    assert.equal(values({ X_PORT: '9100' }, ['--port', '9200'])?.port, 9200);
    assert.equal(values({ X_PORT: '' })?.port, 9000, 'an empty variable counts as unset');
    assert.equal(values({ X_JSON: 'true' })?.json, true);
    assert.equal(values({}, ['--json'])?.json, true);
    assert.equal(values({})?.json, false);
  });

  it('throws LAB_ERR_CONFIG for a bad value, an unknown flag, or a positional argument', () => {
    assert.throws(() => parseOptions(specs, ['--port', 'http'], {}), { code: 'LAB_ERR_CONFIG', message: /--port \/ X_PORT/ });
    assert.throws(() => parseOptions(specs, [], { X_PORT: '-1' }), { code: 'LAB_ERR_CONFIG' });
    assert.throws(() => parseOptions(specs, ['--bogus'], {}), { code: 'LAB_ERR_CONFIG' });
    assert.throws(() => parseOptions(specs, ['extra'], {}), { code: 'LAB_ERR_CONFIG' });
  });

  it('answers --help before validating anything', () => {
    assert.deepEqual(parseOptions(specs, ['--help'], { X_PORT: 'bad' }), { help: true });
  });

  it('lists every option with its variable and default in the help text', () => {
    const help = formatHelp('tool [options]', 'does things', specs);
    assert.match(help, /--port <value> +port \(env X_PORT, default 9000\)/);
    assert.match(help, /--json +json output \(env X_JSON\)/);
    assert.match(help, /--help +show this help and exit/);
  });
});

describe('optionArgs', () => {
  it('writes back as flags what the user set, by flag or environment, in the user\'s own words, and nothing else', () => {
    assert.deepEqual(optionArgs(specs, ['--port', '9100', '--json'], {}), ['--port', '9100', '--json']);
    assert.deepEqual(optionArgs(specs, ['--name=a b'], { X_PORT: '7' }), ['--port', '7', '--name', 'a b']);
    assert.deepEqual(optionArgs(specs, [], { X_JSON: 'yes' }), ['--json']);
    assert.deepEqual(optionArgs(specs, [], { X_JSON: '0', X_NAME: '' }), [], 'a switch set off, an empty variable: not set');
    assert.deepEqual(optionArgs(specs, ['--port', '1', '--name', 'x'], {}, ['port']), ['--name', 'x'], 'what the caller gives itself is left out');
    // What the other side parses is what this side would: the same values.
    const argv = optionArgs(specs, ['--name', 'lab'], { X_PORT: '8080', X_JSON: 'true' });
    const here = parseOptions(specs, ['--name', 'lab'], { X_PORT: '8080', X_JSON: 'true' });
    const there = parseOptions(specs, argv, {});
    assert.deepEqual(there, here);
  });
});
