/**
 * Runs `stop` once on the first SIGTERM or SIGINT (docker stop sends SIGTERM, then SIGKILL after its grace
 * period), then exits with 0, or 1 when stopping failed. A second signal exits at once with 130.
 */
export function onShutdown(stop: (signal: NodeJS.Signals) => Promise<void>, log?: (signal: string) => void): void {
  let stopping = false;
  const handler = (signal: NodeJS.Signals) => {
    if (stopping) process.exit(130);
    stopping = true;
    log?.(signal);
    stop(signal).then(
      () => process.exit(0),
      (error: unknown) => {
        console.error(error);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', handler);
  process.on('SIGINT', handler);
}
