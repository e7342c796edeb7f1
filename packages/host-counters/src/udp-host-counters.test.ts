import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { counterDelta, parseUdpSnmp } from './udp-host-counters.ts';

const sample = `Ip: Forwarding DefaultTTL
Ip: 1 64
Udp: InDatagrams NoPorts InErrors OutDatagrams RcvbufErrors SndbufErrors InCsumErrors IgnoredMulti MemErrors
Udp: 1200 3 7 900 5 0 2 0 0
UdpLite: InDatagrams NoPorts InErrors OutDatagrams RcvbufErrors SndbufErrors InCsumErrors IgnoredMulti MemErrors
UdpLite: 0 0 0 0 0 0 0 0 0
`;

describe('UDP host counters', () => {
  it('reads InDatagrams, InErrors and RcvbufErrors from /proc/net/snmp text', () => {
    assert.deepEqual(parseUdpSnmp(sample), { inDatagrams: 1200, inErrors: 7, rcvbufErrors: 5 });
    assert.equal(parseUdpSnmp('nothing here'), null);
  });

  it('subtracts two readings', () => {
    const before = { inDatagrams: 10, inErrors: 1, rcvbufErrors: 1 };
    assert.deepEqual(counterDelta(before, { inDatagrams: 25, inErrors: 4, rcvbufErrors: 3 }), { inDatagrams: 15, inErrors: 3, rcvbufErrors: 2 });
    assert.equal(counterDelta(null, before), null);
  });
});
