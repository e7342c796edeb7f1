import type { ErrorCode } from '@lab/protocol';

/**
 * Exit statuses scripts can rely on (documented in the README and in `client --help`). Failures are
 * grouped by what a script would do about them: fix the command, look elsewhere, retry later, or
 * distrust the data.
 */
export const ExitStatus = {
  ok: 0,
  /** Anything not listed below. */
  failure: 1,
  /** Bad command line or environment (LAB_ERR_CONFIG). */
  usage: 2,
  /** No such file on the server (LAB_ERR_NOT_FOUND). */
  notFound: 3,
  /** The bytes did not match their SHA-256 (LAB_ERR_HASH_MISMATCH): nothing was kept as complete. */
  integrity: 4,
  /** The server refused the request: limits, quota, disk full, bad name, busy, shutting down. */
  refused: 5,
  /** The server could not be reached or kept dropping the connection, after every retry. */
  unreachable: 6,
} as const;

const byCode: Partial<Record<ErrorCode, number>> = {
  LAB_ERR_CONFIG: ExitStatus.usage,
  LAB_ERR_NOT_FOUND: ExitStatus.notFound,
  LAB_ERR_HASH_MISMATCH: ExitStatus.integrity,
  LAB_ERR_BAD_FILE_NAME: ExitStatus.refused,
  LAB_ERR_FILE_TOO_LARGE: ExitStatus.refused,
  LAB_ERR_QUOTA_EXCEEDED: ExitStatus.refused,
  LAB_ERR_DISK_FULL: ExitStatus.refused,
  LAB_ERR_BUSY: ExitStatus.refused,
  LAB_ERR_TOO_MANY_CONNECTIONS: ExitStatus.refused,
  LAB_ERR_SHUTTING_DOWN: ExitStatus.refused,
  LAB_ERR_CONNECT: ExitStatus.unreachable,
  LAB_ERR_CONNECTION: ExitStatus.unreachable,
  LAB_ERR_TIMEOUT: ExitStatus.unreachable,
  LAB_ERR_TRUNCATED: ExitStatus.unreachable,
};

export function exitStatusFor(code: ErrorCode | 'UNEXPECTED'): number {
  return code === 'UNEXPECTED' ? ExitStatus.failure : (byCode[code] ?? ExitStatus.failure);
}
