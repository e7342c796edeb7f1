import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { JoinCookies } from './join-cookie.ts';

describe('JoinCookies', () => {
  const cookies = new JoinCookies(Buffer.alloc(32, 7), 10_000);
  const a = { address: '10.0.0.2', port: 4000 };

  it('accepts its own cookie from the same address and port within two slots', () => {
    const cookie = cookies.issue(a, 1_000);
    assert.equal(cookies.verify(cookie, a, 1_000), true);
    assert.equal(cookies.verify(cookie, a, 19_999), true);
    assert.equal(cookies.verify(cookie, a, 20_000), false, 'expired');
  });

  it('refuses it from another address or port, from another secret, or altered', () => {
    const cookie = cookies.issue(a, 0);
    assert.equal(cookies.verify(cookie, { ...a, port: 4001 }, 0), false);
    assert.equal(cookies.verify(cookie, { ...a, address: '10.0.0.3' }, 0), false);
    assert.equal(new JoinCookies(Buffer.alloc(32, 8)).verify(cookie, a, 0), false);
    assert.equal(cookies.verify(cookie.slice(0, -1) + (cookie.endsWith('0') ? '1' : '0'), a, 0), false);
    assert.equal(cookies.verify('zz', a, 0), false);
  });
});
