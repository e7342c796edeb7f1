import { spawnSync } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { LabError } from '@lab/protocol';
import { LAB_USER } from '@lab/runtime';
import { composeCommand } from './compose-command.ts';
import { containerLab } from './container-lab.ts';
import type { Lab } from './lab.ts';
import { readinessLine } from './service-process.ts';

interface ComposeRun {
  status: number;
  stdout: string;
  stderr: string;
}

/** The lab of docker-compose.yml, as a Compose project: the servers as services, the client as a one-off container. */
export class ComposeProject {
  readonly project: string;
  readonly #root: string;
  readonly #command: string[];

  constructor(root: string, project: string) {
    this.#root = root;
    this.project = project;
    this.#command = composeCommand();
  }

  get commandLine(): string {
    return this.#command.join(' ');
  }

  run(args: string[], stdio: 'inherit' | 'pipe' = 'pipe'): ComposeRun {
    const [bin, ...base] = this.#command;
    const result = spawnSync(bin!, [...base, '-p', this.project, ...args], { cwd: this.#root, stdio, encoding: 'utf8' });
    if (result.error) throw result.error;
    return { status: result.status ?? 1, stdout: result.stdout ?? '', stderr: result.stderr ?? '' };
  }

  #must(args: string[], what: string): string {
    const result = this.run(args);
    if (result.status !== 0) throw new LabError('LAB_ERR_CONFIG', `${what} failed (${this.commandLine} ${args.join(' ')}): ${result.stderr.trim()}`);
    return result.stdout.trim();
  }

  /** Waits for a service's readiness line in its log, as the tests do. */
  async #ready(container: string, line: RegExp, timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const logs = spawnSync('docker', ['logs', container], { encoding: 'utf8' });
      if (line.test(`${logs.stdout}${logs.stderr}`)) return;
      if (Date.now() > deadline) throw new LabError('LAB_ERR_TIMEOUT', `${container} did not log ${line} within ${timeoutMs / 1000} s`);
      await sleep(200);
    }
  }

  /** Starts tcp-server and udp-relay, and a client container that waits to have experiments exec'd in it. */
  async start(): Promise<Lab> {
    this.#must(['up', '--detach', '--no-build', 'tcp-server', 'udp-relay'], 'starting the servers');
    const tcpServer = this.#must(['ps', '-q', 'tcp-server'], 'finding tcp-server');
    const udpRelay = this.#must(['ps', '-q', 'udp-relay'], 'finding udp-relay');
    await this.#ready(tcpServer, readinessLine['tcp-server']);
    await this.#ready(udpRelay, readinessLine['udp-relay']);
    // `run -d` prints the one-off container's name; `sleep infinity` keeps it there for the sweep, as
    // the lab's user: the sweep sets its interface up with `docker exec --user 0`.
    const client = this.#must(['run', '--detach', '--no-deps', '--user', LAB_USER, 'client', 'sleep', 'infinity'], 'starting the client container').split('\n').at(-1)!;
    const network = spawnSync('docker', ['inspect', '-f', '{{range $name, $_ := .NetworkSettings.Networks}}{{$name}}{{end}}', tcpServer], { encoding: 'utf8' }).stdout.trim();
    return containerLab({ tcpServer, udpRelay, client }, `Docker containers tcp-server, udp-relay and client on the internal network ${network} (${this.commandLine})`, async () => {
      spawnSync('docker', ['rm', '--force', client], { stdio: 'ignore' });
    });
  }

  /** Stops the services with SIGTERM (so their logs end with a clean shutdown) and returns those logs. */
  stopAndReadLogs(): string {
    this.run(['stop', '--timeout', '10']);
    return this.run(['logs', '--no-color', 'tcp-server', 'udp-relay']).stdout;
  }

  /** Removes every container, network and volume of the project, also one-off ones. */
  down(): void {
    this.run(['down', '--volumes', '--remove-orphans', '--timeout', '10']);
  }
}
