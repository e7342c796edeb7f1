import { LabError, type ErrorCode } from '@lab/protocol';

/** Exit status for a configuration error, as sysexits' EX_USAGE is for usage errors in spirit: 2. */
export const EXIT_USAGE = 2;

/**
 * Runs a command's main function: a resolved number becomes the exit status; a thrown error is printed
 * as one line `name: CODE: message` (the code is stable, see docs/errors.md) and exits with
 * `statusFor(code)`: by default 2 for configuration errors, 1 otherwise.
 */
export function runMain(
  name: string,
  main: () => Promise<number | void>,
  statusFor: (code: ErrorCode | 'UNEXPECTED') => number = (code) => (code === 'LAB_ERR_CONFIG' ? EXIT_USAGE : 1),
): void {
  main().then(
    (status) => {
      if (typeof status === 'number') process.exitCode = status;
    },
    (error: unknown) => {
      const code = error instanceof LabError ? error.code : 'UNEXPECTED';
      const detail = error instanceof LabError ? error.message : ((error as Error)?.stack ?? String(error));
      process.stderr.write(`${name}: ${code}: ${detail}\n`);
      process.exit(statusFor(code));
    },
  );
}
