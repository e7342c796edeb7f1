import { runCommand, type CommandResult } from '@lab/runtime';
import { programs, startService, type ServiceName, type ServiceProcess } from './service-process.ts';

/** How to run a command on the local lab: a prefix (ip netns exec NS, setpriv …) and an environment. */
export interface Launch {
  prefix: string[];
  env: Record<string, string>;
  cwd: string;
}

/** Only PATH, `defaults` and the launch's variables: nothing of the demo's environment leaks into the lab. */
const environment = (launch: Launch, defaults: Record<string, string> = {}) => ({ PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin', ...defaults, ...launch.env });

/** Starts a service under `launch` and resolves once it logs its readiness line, as the integration tests wait for containers. */
export function startLocalService(name: ServiceName, launch: Launch, timeoutMs = 20_000): Promise<ServiceProcess> {
  return startService(name, [], { prefix: launch.prefix, env: environment(launch), cwd: launch.cwd, timeoutMs });
}

/** SIGTERM (the services stop cleanly on it), then SIGKILL after `graceMs`. */
export async function stopLocalService(service: ServiceProcess, graceMs = 5000): Promise<void> {
  await service.stop('SIGTERM', graceMs);
}

/** Runs a command to its end under `launch`, with no time limit. */
export function runLocal(argv: string[], launch: Launch, onStderrLine?: (line: string) => boolean): Promise<CommandResult> {
  return runCommand([...launch.prefix, ...argv], { cwd: launch.cwd, env: environment(launch), timeoutMs: 0, ...(onStderrLine && { onStderrLine }) });
}

/** Runs `client ARGS…` under `launch`, its logs in JSON. */
export function runLocalClient(args: string[], launch: Launch, onStderrLine?: (line: string) => boolean): Promise<CommandResult> {
  return runLocal([process.execPath, programs.client, ...args], { ...launch, env: { LOG_FORMAT: 'json', ...launch.env } }, onStderrLine);
}

/** What the services logged (all of it: they are kept for `npm run demo -- --logs`), each line under its service's name. */
export function serviceLogs(services: readonly ServiceProcess[]): string {
  return services
    .flatMap((service) => service.output.join('').split('\n').filter(Boolean).map((line) => `${service.name} | ${line}`))
    .join('\n');
}
