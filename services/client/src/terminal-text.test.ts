import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { terminalText } from './terminal-text.ts';

describe('terminalText', () => {
  it('turns ESC, CR, BEL and NUL into visible escapes on one line', () => {
    const hostile = 'hi\x1b[2J\x1b]0;owned\x07\r[lab #9] 10.0.0.9:4000: forged\n\x00';
    const shown = terminalText(hostile);
    assert.equal(shown, 'hi\\x1b[2J\\x1b]0;owned\\x07\\x0d[lab #9] 10.0.0.9:4000: forged\\x0a\\x00');
    assert.doesNotMatch(shown, /[\u0000-\u001f\u007f-\u009f]/);
  });

  it('shows C1 controls, DEL, line separators and bidirectional overrides', () => {
    assert.equal(terminalText('a\u009b31mb\u007f\u2028\u202egnp.exe'), 'a\\x9b31mb\\x7f\\u2028\\u202egnp.exe');
  });

  it('leaves printable text of any script alone', () => {
    const text = 'héllo wörld, こんにちは, 🙂 tab-free \\x1b typed as text';
    assert.equal(terminalText(text), text);
  });
});
