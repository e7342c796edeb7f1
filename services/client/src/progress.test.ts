import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatBytes, formatDuration, Progress } from './progress.ts';

function sink(isTTY: boolean) {
  const writes: string[] = [];
  return { writes, stream: { isTTY, columns: 100, write: (text: string) => writes.push(text) } };
}

describe('Progress', () => {
  it('formats sizes and durations for people', () => {
    assert.equal(formatBytes(512), '512 B');
    assert.equal(formatBytes(1536), '1.5 KiB');
    assert.equal(formatBytes(1024 ** 3), '1.0 GiB');
    assert.equal(formatDuration(75), '1m15s');
    assert.equal(formatDuration(Infinity), '--');
  });

  it('redraws one bar in place on a terminal and ends it with a newline', () => {
    const { writes, stream } = sink(true);
    const progress = new Progress({ label: 'send a.bin', total: 1000, start: 0, stream, mode: 'auto' });
    progress.update(500);
    progress.finish(1000);
    assert.ok(writes.every((w) => w.startsWith('\r') || w === '\n'));
    assert.match(writes.at(-2)!, /send a\.bin \[#+\] 100% 1000 B\/1000 B .* ETA/);
    assert.equal(writes.at(-1), '\n');
  });

  it('writes plain lines without a terminal, and says where a resumed transfer starts', () => {
    const { writes, stream } = sink(false);
    const progress = new Progress({ label: 'get a.bin', total: 4096, start: 1024, stream, mode: 'auto' });
    progress.finish();
    assert.deepEqual(writes.map((w) => w.replace(/ [\d.]+ (B|KiB)\/s ETA .*/, ' <rate>')), [
      'get a.bin: resuming at 1.0 KiB of 4.0 KiB\n',
      'get a.bin:  25% 1.0 KiB/4.0 KiB <rate>\n',
    ]);
  });
});
