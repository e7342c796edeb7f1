import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DISK_RESERVE_CAP_BYTES, diskReserveFor, diskReserveSchema } from './disk-reserve.ts';

const MiB = 1024 ** 2;

describe('diskReserveFor', () => {
  it('keeps 5% of a small volume, so that a 64 MiB volume stores files', () => {
    assert.equal(diskReserveFor('auto', 64 * MiB), Math.floor(0.05 * 64 * MiB));
    assert.ok(diskReserveFor('auto', 64 * MiB) < 4 * MiB);
  });

  it('keeps at most 64 MiB of a large one', () => {
    assert.equal(diskReserveFor('auto', 100 * 1024 * MiB), DISK_RESERVE_CAP_BYTES);
    assert.equal(diskReserveFor('auto', 20 * 64 * MiB), DISK_RESERVE_CAP_BYTES);
  });

  it('takes a number of bytes as given, 0 included', () => {
    assert.equal(diskReserveFor(0, 64 * MiB), 0);
    assert.equal(diskReserveFor(123, 64 * MiB), 123);
  });

  it('reads the option as auto or a non-negative count', () => {
    assert.equal(diskReserveSchema.parse('auto'), 'auto');
    assert.equal(diskReserveSchema.parse('1048576'), MiB);
    assert.equal(diskReserveSchema.safeParse('-1').success, false);
    assert.equal(diskReserveSchema.safeParse('5%').success, false);
  });
});
