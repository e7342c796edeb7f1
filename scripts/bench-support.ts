import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { runCommand } from '@lab/runtime';

/** Runs a command to its end and resolves with its stdout. */
export async function run(command: string, args: string[]): Promise<string> {
  const result = await runCommand([command, ...args], { timeoutMs: 0 });
  if (result.code !== 0) throw new Error(`${command}: ${result.output}`);
  return result.stdout;
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
