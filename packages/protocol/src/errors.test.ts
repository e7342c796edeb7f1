import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { errorCodes, LabError } from './errors.ts';

const docs = readFileSync(new URL('../../../docs/errors.md', import.meta.url), 'utf8');

describe('error catalogue', () => {
  it('documents every code in docs/errors.md', () => {
    const missing = errorCodes.filter((code) => !docs.includes(`\`${code}\``));
    assert.deepEqual(missing, [], 'codes without documentation');
  });

  it('documents no code that does not exist', () => {
    const documented = [...docs.matchAll(/`(LAB_ERR_[A-Z0-9_]+)`/g)].map((m) => m[1]);
    const unknown = documented.filter((code) => !errorCodes.includes(code as never));
    assert.deepEqual(unknown, []);
  });

  it('uses the catalogue text when no message is given', () => {
    const error = new LabError('LAB_ERR_NOT_FOUND');
    assert.equal(error.code, 'LAB_ERR_NOT_FOUND');
    assert.match(error.message, /no stored file/i);
  });
});
