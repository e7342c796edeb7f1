import { z } from 'zod';
import { nonNegativeIntSchema } from '@lab/runtime';

/**
 * How much of the data directory's file system uploads leave free, so that the server can still sync,
 * rename and answer when the disk is nearly full. A fixed 64 MiB would take all of a small volume (a
 * 64 MiB tmpfs or a container's small data volume would then refuse every upload), so the default is
 * the smaller of 64 MiB and 5% of the volume, as ext4 keeps 5% for root (mke2fs(8), -m).
 */
export const DISK_RESERVE_CAP_BYTES = 64 * 1024 ** 2;
export const DISK_RESERVE_SHARE = 0.05;

/** `auto` (the default: see diskReserveFor) or a number of bytes. */
export const diskReserveSchema = z.union([z.literal('auto'), nonNegativeIntSchema]);
export type DiskReserve = z.infer<typeof diskReserveSchema>;

/** The reserve, in bytes, for a file system of `volumeBytes` in all (statfs(2): f_blocks × f_bsize). */
export function diskReserveFor(setting: DiskReserve, volumeBytes: number): number {
  if (setting !== 'auto') return setting;
  return Math.min(DISK_RESERVE_CAP_BYTES, Math.floor(DISK_RESERVE_SHARE * volumeBytes));
}
