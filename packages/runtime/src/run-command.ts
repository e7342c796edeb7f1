import { spawn } from 'node:child_process';

/** How a command ended: its exit status, its stdout apart, and stdout + stderr as `output`. */
export interface CommandResult {
  code: number;
  stdout: string;
  output: string;
}

export interface CommandOptions {
  /** Killed (SIGKILL) after this long, and then the status is 124, as timeout(1) says; 0: no limit. */
  timeoutMs?: number;
  cwd?: string;
  /** The whole environment of the command; this process's when absent. */
  env?: Record<string, string | undefined>;
  /**
   * Told each line of stderr as it comes (without its newline); a line it answers true for is its own,
   * and is kept out of `output`.
   */
  onStderrLine?: (line: string) => boolean;
}

/** Output beyond this is a bug in what was run, not something to keep in memory. */
const MAX_OUTPUT = 64 * 1024 * 1024;

/** The status a shell reports for a command that could not be started (bash: 127, command not found). */
const NOT_STARTED = 127;
const TIMED_OUT = 124;

/**
 * Runs argv to its end, without a shell, and resolves with how it ended; it never rejects: a command
 * that cannot start is status 127, one that runs too long is killed and is status 124, and one that
 * writes more than 64 MiB is killed and is status 1, each with what happened at the end of `output`.
 */
export function runCommand(argv: readonly string[], options: CommandOptions = {}): Promise<CommandResult> {
  const { timeoutMs = 30_000 } = options;
  return new Promise((resolve) => {
    const [file, ...args] = argv;
    const child = spawn(file!, args, { cwd: options.cwd, env: options.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    const stdout: Buffer[] = [];
    const both: Buffer[] = [];
    let size = 0;
    let ending = '';
    const stop = (why: string) => {
      ending ||= why;
      child.kill('SIGKILL');
    };
    const timer = timeoutMs > 0 ? setTimeout(() => stop(`timed out after ${timeoutMs / 1000} s`), timeoutMs) : undefined;
    const keep = (into: Buffer[][]) => (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_OUTPUT) return stop(`stopped: more than ${MAX_OUTPUT} bytes of output`);
      for (const list of into) list.push(chunk);
    };
    child.stdout.on('data', keep([stdout, both]));
    const { onStderrLine } = options;
    if (onStderrLine) {
      let partial = '';
      const keepLine = keep([both]);
      child.stderr.setEncoding('utf8');
      child.stderr.on('data', (text: string) => {
        const lines = (partial + text).split('\n');
        partial = lines.pop()!;
        if (partial.length > MAX_OUTPUT) return stop(`stopped: a line of more than ${MAX_OUTPUT} bytes`);
        for (const line of lines) if (!onStderrLine(line)) keepLine(Buffer.from(`${line}\n`));
      });
      child.stderr.on('end', () => {
        if (partial && !onStderrLine(partial)) keepLine(Buffer.from(partial));
      });
    } else child.stderr.on('data', keep([both]));
    let finished = false;
    const finish = (code: number, note = ending) => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      const text = Buffer.concat(both).toString();
      resolve({ code, stdout: Buffer.concat(stdout).toString(), output: `${text}${note ? `${text ? '\n' : ''}${note}` : ''}`.trim() });
    };
    child.on('error', (error) => finish(NOT_STARTED, error.message));
    child.on('close', (code) => finish(ending.startsWith('timed out') ? TIMED_OUT : (code ?? 1)));
  });
}
