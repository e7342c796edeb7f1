import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseSsInfo, parseSsLowestRtt, parseSsProgress, parseSsSample, parseTcpSnmp } from './tcp-host-counters.ts';

describe('TCP host counters', () => {
  it('reads OutSegs and RetransSegs from /proc/net/snmp text', () => {
    const text = `Tcp: RtoAlgorithm RtoMin RtoMax MaxConn ActiveOpens PassiveOpens AttemptFails EstabResets CurrEstab InSegs OutSegs RetransSegs InErrs OutRsts InCsumErrors
Tcp: 1 200 120000 -1 3177 2814 0 2221 0 632396 624035 1173 0 1534 0
`;
    assert.deepEqual(parseTcpSnmp(text), { outSegs: 624035, retransSegs: 1173 });
    assert.equal(parseTcpSnmp(''), null);
  });

  it('reads RTT and MSS from ss -ti output', () => {
    const line = '\t cubic wscale:7,7 rto:204 rtt:1.25/0.625 ato:40 mss:1448 pmtu:1500 rcvmss:536 advmss:1448 cwnd:10';
    assert.deepEqual(parseSsInfo(line), { rttMs: 1.25, rttVarMs: 0.625, rtoMs: 204, mss: 1448, bytesRetransmitted: 0 });
    assert.equal(parseSsInfo(`${line} bytes_sent:1049000 bytes_retrans:44888 bytes_acked:1004113`)?.bytesRetransmitted, 44888);
    assert.equal(parseSsInfo('no info'), null);
  });

  it('reads the lowest RTT (minrtt), or the smoothed one from an ss that does not print it', () => {
    // A handshake stalled by the host: SRTT is mostly that one sample, minrtt is the path's.
    assert.equal(parseSsLowestRtt('\t cubic rto:204 rtt:4.334/2.1 mss:1448 minrtt:0.21'), 0.21);
    assert.equal(parseSsLowestRtt('\t cubic rto:204 rtt:1.25/0.625 mss:1448'), 1.25);
    assert.equal(parseSsLowestRtt('no info'), null);
  });

  it('reads how far both byte streams came, 0 for a counter ss leaves out', () => {
    const line = '\t cubic rto:204 rtt:1.25/0.625 mss:1448 bytes_sent:1049000 bytes_retrans:44888 bytes_acked:1004113 bytes_received:321 segs_out:700';
    assert.deepEqual(parseSsProgress(line), { bytesAcked: 1004113, bytesReceived: 321, bytesRetransmitted: 44888 });
    assert.deepEqual(parseSsProgress('\t cubic rto:204 rtt:1.25/0.625 mss:1448'), { bytesAcked: 0, bytesReceived: 0, bytesRetransmitted: 0 });
  });

  it('reads a sample for the live page: progress, window, RTT and the segments sent again so far', () => {
    const line = '\t cubic wscale:7,7 rto:204 rtt:3.1/1.2 mss:1448 cwnd:7 ssthresh:5 bytes_sent:2100000 bytes_retrans:44888 bytes_acked:2000000 bytes_received:312 retrans:0/31 lost:2';
    assert.deepEqual(parseSsSample(line), { bytesAcked: 2000000, bytesReceived: 312, bytesRetransmitted: 44888, cwnd: 7, rttMs: 3.1, retransmittedSegments: 31 });
    assert.deepEqual(parseSsSample('\t cubic mss:1448'), { bytesAcked: 0, bytesReceived: 0, bytesRetransmitted: 0, cwnd: null, rttMs: null, retransmittedSegments: 0 });
  });
});
