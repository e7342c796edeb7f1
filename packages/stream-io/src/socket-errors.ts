import { LabError } from '@lab/protocol';

/** Turns socket errors into the lab's codes, keeping the original as `cause`. */
export function asLabError(error: unknown): LabError {
  if (error instanceof LabError) return error;
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  const message = error instanceof Error ? error.message : String(error);
  if (code === 'ETIMEDOUT') return new LabError('LAB_ERR_TIMEOUT', message, { cause: error });
  return new LabError('LAB_ERR_CONNECTION', message, { cause: error });
}
