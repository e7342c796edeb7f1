import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { broadcastAddress, ipv4ToNumber, numberToIpv4, prefixMask, sameSubnet } from './ipv4.ts';

describe('IPv4 arithmetic', () => {
  it('reads and writes dotted quads, and refuses what is not one', () => {
    assert.equal(ipv4ToNumber('10.77.0.2'), 0x0a4d0002);
    assert.equal(ipv4ToNumber('255.255.255.255'), 0xffffffff);
    assert.equal(numberToIpv4(0xef000001), '239.0.0.1');
    for (const bad of ['1.2.3', '1.2.3.256', '::1', 'relay', '1.2.3.4.5', '1.2.3.-4', '1.2..4', ' 1.2.3.4', '239.010.0.1']) assert.equal(ipv4ToNumber(bad), null, bad);
  });

  it('makes the mask of every prefix length, /0 and /32 included', () => {
    assert.equal(numberToIpv4(prefixMask(0)), '0.0.0.0');
    assert.equal(numberToIpv4(prefixMask(8)), '255.0.0.0');
    assert.equal(numberToIpv4(prefixMask(30)), '255.255.255.252');
    assert.equal(numberToIpv4(prefixMask(32)), '255.255.255.255');
    assert.throws(() => prefixMask(33), RangeError);
  });

  it('tells whether a subnet holds an address, and gives its broadcast address', () => {
    assert.equal(sameSubnet('10.77.0.2', '255.255.255.0', '10.77.0.3'), true);
    assert.equal(sameSubnet('10.77.0.2', '255.255.255.0', '10.77.1.3'), false);
    assert.equal(sameSubnet('10.77.0.2', '255.255.255.0', 'tcp-server'), false);
    assert.equal(broadcastAddress('172.18.0.5', '255.255.0.0'), '172.18.255.255');
    assert.equal(broadcastAddress('192.168.1.7', '255.255.255.252'), '192.168.1.7');
    assert.equal(broadcastAddress('192.168.1.7', 'none'), null);
  });
});
