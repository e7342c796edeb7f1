import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { describeHeaders, interfaceTowards, wireOverhead } from './interface-counters.ts';

describe('interface counters', () => {
  const interfaces = {
    lo: [{ address: '127.0.0.1', netmask: '255.0.0.0', family: 'IPv4' as const, mac: '', internal: true, cidr: '127.0.0.1/8' }],
    eth0: [
      { address: 'fe80::1', netmask: 'ffff:ffff:ffff:ffff::', family: 'IPv6' as const, mac: '', internal: false, cidr: null, scopeid: 2 },
      { address: '172.18.0.4', netmask: '255.255.0.0', family: 'IPv4' as const, mac: '', internal: false, cidr: '172.18.0.4/16' },
    ],
  };

  it('finds the interface whose subnet holds the peer, never loopback', () => {
    assert.equal(interfaceTowards('172.18.0.2', interfaces), 'eth0');
    assert.equal(interfaceTowards('127.0.0.1', interfaces), null);
    assert.equal(interfaceTowards('10.1.2.3', interfaces), null);
    assert.equal(interfaceTowards('::1', interfaces), null);
  });

  it('is one set of headers per packet: (wire - payload - retransmitted) / packets', () => {
    // 1000 UDP datagrams of 512 B: 554 B each on an Ethernet wire (14 + 20 + 8 + 512).
    assert.deepEqual(wireOverhead('eth0', { txPackets: 10, txBytes: 1000 }, { txPackets: 1010, txBytes: 1000 + 554_000 }, 512_000), {
      interface: 'eth0',
      packets: 1000,
      wireBytes: 554_000,
      payloadBytes: 512_000,
      retransmittedBytes: 0,
      headerBytesPerPacket: 42,
    });
    // TCP: 100 segments of 1448 B, 10 of them sent twice, 66 B of headers each (timestamps on).
    const tcp = wireOverhead('eth0', { txPackets: 0, txBytes: 0 }, { txPackets: 110, txBytes: 110 * (1448 + 66) }, 100 * 1448, 10 * 1448);
    assert.equal(tcp?.headerBytesPerPacket, 66);
    assert.equal(wireOverhead('eth0', { txPackets: 5, txBytes: 5 }, { txPackets: 5, txBytes: 5 }, 0), null, 'nothing sent: no figure');
    assert.equal(describeHeaders(tcp!, 'TCP'), '66 B/packet on eth0: 14 Ethernet + 20 IPv4 + 32 TCP');
  });
});
