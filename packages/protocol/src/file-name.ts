import { z } from 'zod';
import { LabError } from './errors.ts';

/** Longest stored file name: NAME_MAX (255) less the partial-upload wrapping ".NAME.<64 hex>.part" (71). */
export const MAX_FILE_NAME_LENGTH = 180;

/**
 * File names are an allow-list, not a block-list: letters, digits, dot, dash and underscore only, so no
 * path separator, no control character and no shell-special byte can reach the file system. A name may
 * not start with a dot, which rules out "." and ".." and keeps the server's hidden temporary files
 * (".name.part") out of reach of clients.
 */
export const fileNameSchema = z
  .string()
  .min(1)
  .max(MAX_FILE_NAME_LENGTH)
  .regex(/^[A-Za-z0-9_-][A-Za-z0-9._-]*$/, 'only letters, digits, ".", "_" and "-", not starting with "."');

/**
 * The wire accepts any short string as a name so that a bad name gets its own error code
 * (LAB_ERR_BAD_FILE_NAME) from `checkFileName`, not the generic LAB_ERR_HEADER_INVALID.
 */
export const wireFileNameSchema = z.string().max(1024);

export function checkFileName(name: string): LabError | null {
  const result = fileNameSchema.safeParse(name);
  if (result.success) return null;
  return new LabError('LAB_ERR_BAD_FILE_NAME', `file name ${JSON.stringify(name.slice(0, 80))} is not allowed: ${result.error.issues[0]?.message ?? 'invalid'}`);
}
