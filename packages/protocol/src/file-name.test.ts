import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkFileName, fileNameSchema, MAX_FILE_NAME_LENGTH } from './file-name.ts';

describe('fileNameSchema', () => {
  it('accepts plain names', () => {
    for (const name of ['a', 'report.pdf', 'lab_1-2.tar.gz', 'x'.repeat(MAX_FILE_NAME_LENGTH)]) {
      assert.equal(fileNameSchema.safeParse(name).success, true, name);
    }
  });

  it('refuses path tricks, hidden names, control characters and long names', () => {
    const bad = ['', '.', '..', '../x', 'a/b', 'a\\b', '/etc/passwd', '.hidden', 'a\u0000b', 'a\nb', 'tab\t', 'é.txt', 'a b', 'x'.repeat(MAX_FILE_NAME_LENGTH + 1)];
    for (const name of bad) assert.equal(fileNameSchema.safeParse(name).success, false, JSON.stringify(name));
  });
});

describe('checkFileName', () => {
  it('returns LAB_ERR_BAD_FILE_NAME for a path trick and null for a plain name', () => {
    assert.equal(checkFileName('../x')?.code, 'LAB_ERR_BAD_FILE_NAME');
    assert.equal(checkFileName('a/b')?.code, 'LAB_ERR_BAD_FILE_NAME');
    assert.equal(checkFileName('ok.bin'), null);
  });
});
