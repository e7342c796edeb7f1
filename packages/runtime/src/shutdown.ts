import { constants } from 'node:os';

/** The signals that ask a program to stop: Ctrl-C, `kill` and `docker stop`, a closed terminal. */
export type StopSignal = 'SIGINT' | 'SIGTERM' | 'SIGHUP';

/** The exit status a shell gives a program that ended on `signal`: 128 + its number (130 for SIGINT). */
export const signalStatus = (signal: StopSignal): number => 128 + constants.signals[signal];

/**
 * Calls `first` on the first of `signals` to arrive, and `again` (if given) on each one after it:
 * a stop is begun once, however many times the user presses Ctrl-C.
 */
export function onStopSignal(signals: readonly StopSignal[], first: (signal: StopSignal) => void, again?: (signal: StopSignal) => void): void {
  let stopping = false;
  for (const signal of signals) {
    process.on(signal, () => {
      if (stopping) return again?.(signal);
      stopping = true;
      first(signal);
    });
  }
}

/**
 * Runs `stop` once on the first SIGTERM or SIGINT (docker stop sends SIGTERM, then SIGKILL after its grace
 * period), then exits with 0, or 1 when stopping failed. A second signal exits at once with 130.
 */
export function onShutdown(stop: (signal: NodeJS.Signals) => Promise<void>, log?: (signal: string) => void): void {
  onStopSignal(
    ['SIGTERM', 'SIGINT'],
    (signal) => {
      log?.(signal);
      stop(signal).then(
        () => process.exit(0),
        (error: unknown) => {
          console.error(error);
          process.exit(1);
        },
      );
    },
    () => process.exit(130),
  );
}
