import { execFile } from 'node:child_process';
import { iptablesSteps, netemSteps, readBackSteps, type Backend, type ImpairmentProfile, type Step } from '@lab/impairment';
import { LabError } from '@lab/protocol';

interface Run {
  code: number;
  output: string;
}

/** Runs argv inside a container as root (the lab's services run as uid 10001; only root may use NET_ADMIN). */
function dockerExec(container: string, argv: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile('docker', ['exec', '--user', '0', container, ...argv], { timeout: 30_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, output: `${stdout}${stderr}`.trim() });
    });
  });
}

async function runSteps(container: string, steps: Step[]): Promise<void> {
  for (const step of steps) {
    if (step.unless && (await dockerExec(container, step.unless)).code === 0) continue;
    const run = await dockerExec(container, step.argv);
    if (run.code !== 0 && !step.tolerate?.test(run.output)) {
      throw new LabError('LAB_ERR_IMPAIRMENT_UNSUPPORTED', `${container}: \`${step.argv.join(' ')}\` failed: ${run.output}`);
    }
  }
}

/**
 * Impairs the lab interface (in and out) of running containers, from the host, with `docker exec`.
 * The backend is the kernel's to decide: netem where `tc qdisc … netem` works, else iptables random
 * drop (which can only do loss). What is really installed is read back from the kernel for the report.
 */
export class DockerImpairer {
  readonly containers: string[];
  readonly backend: Backend;
  /** Why this backend: what the netem probe said. */
  readonly reason: string;
  readonly #dev: string;

  private constructor(containers: string[], backend: Backend, reason: string, dev: string) {
    this.containers = containers;
    this.backend = backend;
    this.reason = reason;
    this.#dev = dev;
  }

  static async create(containers: string[], dev = 'eth0'): Promise<DockerImpairer> {
    const probe = await dockerExec(containers[0]!, ['tc', 'qdisc', 'replace', 'dev', dev, 'root', 'netem', 'loss', '0%']);
    if (probe.code === 0) {
      await dockerExec(containers[0]!, ['tc', 'qdisc', 'del', 'dev', dev, 'root']);
      return new DockerImpairer(containers, 'netem', 'tc netem is available', dev);
    }
    const iptables = await dockerExec(containers[0]!, ['iptables', '-w', '-S', 'INPUT']);
    if (iptables.code !== 0) throw new LabError('LAB_ERR_IMPAIRMENT_UNSUPPORTED', `neither tc netem (${probe.output}) nor iptables (${iptables.output}) works in ${containers[0]}: does it have NET_ADMIN?`);
    return new DockerImpairer(containers, 'iptables', `no netem in this kernel (tc said: ${probe.output})`, dev);
  }

  /** Applies `profile` to every container, replacing what was there; refuses what the backend cannot do. */
  async apply(profile: ImpairmentProfile): Promise<void> {
    const target = { dev: this.#dev };
    const steps = this.backend === 'netem' ? netemSteps(profile, target) : iptablesSteps(profile, target);
    for (const container of this.containers) await runSteps(container, steps);
  }

  /** What the kernel of each container says is installed (tc qdisc show / iptables -S). */
  async readBack(): Promise<Record<string, string>> {
    const installed: Record<string, string> = {};
    for (const container of this.containers) {
      const outputs = [];
      for (const step of readBackSteps(this.backend, { dev: this.#dev })) outputs.push((await dockerExec(container, step.argv)).output);
      installed[container] = outputs.filter(Boolean).join('\n');
    }
    return installed;
  }
}
