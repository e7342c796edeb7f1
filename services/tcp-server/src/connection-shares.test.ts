import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { addressKey, ConnectionShares } from './connection-shares.ts';

describe('ConnectionShares', () => {
  it('refuses an address beyond its share while another address still gets in', () => {
    const shares = new ConnectionShares(10, 3);
    for (let i = 0; i < 3; i++) assert.equal(shares.admit('10.0.0.1'), null);
    assert.equal(shares.admit('10.0.0.1')?.code, 'LAB_ERR_TOO_MANY_CONNECTIONS');
    assert.equal(shares.admit('10.0.0.2'), null);
    assert.equal(shares.total, 4);
    shares.release('10.0.0.1');
    assert.equal(shares.admit('10.0.0.1'), null);
  });

  it('refuses everyone once the total is reached, and counts nothing for a refusal', () => {
    const shares = new ConnectionShares(2, 2);
    assert.equal(shares.admit('a'), null);
    assert.equal(shares.admit('b'), null);
    assert.match(shares.admit('c')?.message ?? '', /2 connections open/);
    shares.release('c'); // never admitted: no effect
    assert.equal(shares.total, 2);
    shares.release('a');
    assert.equal(shares.admit('c'), null);
  });

  it('counts an IPv4 client of an IPv6 socket as its IPv4 address, an IPv6 client as its /64, Unix-socket clients as one', () => {
    assert.equal(addressKey('192.0.2.7'), '192.0.2.7');
    assert.equal(addressKey('::ffff:192.0.2.7'), '192.0.2.7');
    assert.equal(addressKey('::FFFF:192.0.2.7'), '192.0.2.7');
    assert.equal(addressKey('2001:db8::1'), '2001:db8:0:0::/64');
    assert.equal(addressKey('2001:0db8:0000:0000:dead:beef:0:1'), '2001:db8:0:0::/64');
    assert.equal(addressKey('2001:db8:1:2:3:4:5:6'), '2001:db8:1:2::/64');
    assert.equal(addressKey('fe80::1%eth0'), 'fe80:0:0:0::/64');
    assert.equal(addressKey('::1'), '0:0:0:0::/64');
    assert.equal(addressKey('64:ff9b::192.0.2.1'), '64:ff9b:0:0::/64');
    assert.equal(addressKey(undefined), 'unix');
  });
});
