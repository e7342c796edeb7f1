import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { howFar } from './tcp-experiment.ts';

describe('a TCP transfer cut at its deadline', () => {
  const MiB = 1024 * 1024;

  it('says how much of the upload the server had acknowledged, at what rate, and how much was sent again', () => {
    const text = howFar('upload', { bytesAcked: 3 * MiB, bytesReceived: 200, bytesRetransmitted: MiB / 2 }, 4 * MiB, 120);
    assert.equal(text, ': 3.0 MiB of 4.0 MiB acknowledged by then (0.21 Mbit/s), 512 KiB sent again');
  });

  it('never claims more than the file (the counters include the protocol\'s headers)', () => {
    assert.match(howFar('upload', { bytesAcked: 4 * MiB + 300, bytesReceived: 0, bytesRetransmitted: 0 }, 4 * MiB, 120), /^: 4\.0 MiB of 4\.0 MiB/);
  });

  it('says how much of the download had arrived, and nothing where the kernel could not be asked', () => {
    assert.equal(howFar('download', { bytesAcked: 4 * MiB, bytesReceived: MiB, bytesRetransmitted: 0 }, 4 * MiB, 120), ': 1.0 MiB of 4.0 MiB of the download received by then');
    assert.equal(howFar('upload', null, 4 * MiB, 120), '');
  });
});
