import { execFile, spawn, type ChildProcessByStdio } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import type { Readable } from 'node:stream';

/** Runs a command to its end and resolves with its stdout. */
export function run(command: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(command, args, { maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => (error ? reject(new Error(`${command}: ${stderr || error.message}`)) : resolve(stdout)));
  });
}

/** A free port on loopback (bind port 0, read it, close). */
export async function freePort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  server.close();
  return port;
}

export async function requireIperf3(): Promise<void> {
  await run('iperf3', ['--version']).catch(() => {
    throw new Error('iperf3 is not installed: apt-get install iperf3');
  });
}

/** Runs `iperf3 -c` against a one-shot `iperf3 -s` on loopback and returns its JSON report. */
export async function iperf3(clientArgs: string[]): Promise<unknown> {
  const port = await freePort();
  const server = spawn('iperf3', ['-s', '-1', '-B', '127.0.0.1', '-p', String(port)], { stdio: 'ignore' });
  try {
    await new Promise((resolve) => setTimeout(resolve, 300));
    return JSON.parse(await run('iperf3', ['-c', '127.0.0.1', '-p', String(port), '-J', ...clientArgs]));
  } finally {
    server.kill();
  }
}

/** Starts one of the lab's services and resolves once it printed `ready` (its readiness line). */
export async function startService(main: string, args: string[], ready: string): Promise<ChildProcessByStdio<null, Readable, null>> {
  const child = spawn(process.execPath, [main, ...args, '--log-format', 'json'], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve) => child.stdout.on('data', (chunk: Buffer) => chunk.toString().includes(ready) && resolve()));
  return child;
}

export async function stopService(child: ChildProcessByStdio<null, Readable, null>): Promise<void> {
  child.kill('SIGTERM');
  await once(child, 'exit');
}
