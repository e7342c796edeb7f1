import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { LabError } from '@lab/protocol';
import type { Run } from '@lab/impairment';

/** How to run a command on the local lab: a prefix (ip netns exec NS, setpriv …) and an environment. */
export interface Launch {
  prefix: string[];
  env: Record<string, string>;
  cwd: string;
}

/** Spawns `argv` behind the launch's prefix, with only PATH, `defaults` and the launch's variables. */
function spawnUnder(launch: Launch, argv: string[], defaults: Record<string, string> = {}) {
  const [file, ...args] = [...launch.prefix, ...argv];
  return spawn(file!, args, {
    cwd: launch.cwd,
    env: { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin', ...defaults, ...launch.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/** A service started as a local process; `endpoint` is what its readiness line said ("0.0.0.0:9000"). */
export interface LocalService {
  name: string;
  child: ChildProcess;
  endpoint: string;
  output: string[];
}

/**
 * The services a local lab runs, and the readiness line each prints once it listens ("listening on tcp
 * HOST:PORT"), in both log formats: in JSON it sits inside the "msg" string, hence no quote in the capture.
 */
const localServices = {
  'tcp-server': { main: 'services/tcp-server/src/main.ts', ready: /listening on tcp ([^\s"]+)/ },
  'udp-relay': { main: 'services/udp-relay/src/main.ts', ready: /listening on udp ([^\s"]+)/ },
} as const;

/** Starts a service under `launch` and resolves once it logs its readiness line, as the integration tests wait for containers. */
export async function startLocalService(name: keyof typeof localServices, launch: Launch, timeoutMs = 20_000): Promise<LocalService> {
  const { main, ready } = localServices[name];
  const child = spawnUnder(launch, [process.execPath, main], { LOG_FORMAT: 'json' });
  const output: string[] = [];
  const endpoint = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new LabError('LAB_ERR_TIMEOUT', `${name} did not log ${ready} within ${timeoutMs / 1000} s: ${output.join('').slice(-1000)}`)), timeoutMs);
    let waiting = true;
    const onData = (chunk: Buffer) => {
      output.push(chunk.toString());
      const match = waiting ? ready.exec(output.join('')) : null;
      if (match) {
        waiting = false;
        clearTimeout(timer);
        resolve(match[1] ?? '');
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new LabError('LAB_ERR_CONFIG', `${name} exited (${code}) before it was ready: ${output.join('').slice(-1000)}`));
    });
  });
  return { name, child, endpoint, output };
}

/** SIGTERM (the services stop cleanly on it), then SIGKILL after `graceMs`. */
export async function stopLocalService(service: LocalService, graceMs = 5000): Promise<void> {
  if (service.child.exitCode !== null || service.child.signalCode !== null) return;
  const exited = once(service.child, 'exit');
  service.child.kill('SIGTERM');
  const timer = setTimeout(() => service.child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

/** Runs a command to its end under `launch`: its stdout apart, and stdout + stderr as `output`. */
export function runLocal(argv: string[], launch: Launch): Promise<Run & { stdout: string }> {
  return new Promise((resolve) => {
    const child = spawnUnder(launch, argv);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', (error) => resolve({ code: 127, stdout, output: `${stdout}${stderr}${error.message}`.trim() }));
    child.on('close', (code) => resolve({ code: code ?? 1, stdout, output: `${stdout}${stderr}`.trim() }));
  });
}

/** What the services logged (all of it: they are kept for `npm run demo -- --logs`), each line under its service's name. */
export function serviceLogs(services: readonly LocalService[]): string {
  return services
    .flatMap((service) => service.output.join('').split('\n').filter(Boolean).map((line) => `${service.name} | ${line}`))
    .join('\n');
}
