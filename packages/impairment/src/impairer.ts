import { LabError } from '@lab/protocol';
import { iptablesSteps, netemSteps, readBackSteps, segmentSizedPacketSteps, type Backend, type Direction, type Step } from './commands.ts';
import { parseInstalledNetem, profileDifferences } from './netem-readback.ts';
import { formatProfile, type ImpairmentProfile } from './profile.ts';

/** The ifb device each impaired host's ingress is redirected to (one per network namespace). */
const IFB = 'ifb0';

/** What running one command printed and how it ended; `code` 0 is success. */
export interface Run {
  code: number;
  output: string;
}

/**
 * Runs argv as root in one host's network namespace: `docker exec --user 0` for a container, `ip netns
 * exec` for a namespace. The impairer is the same for every kind of lab; only this differs.
 */
export type Exec = (argv: string[]) => Promise<Run>;

export interface ImpairedHost {
  name: string;
  exec: Exec;
}

async function runSteps(host: ImpairedHost, steps: Step[]): Promise<void> {
  for (const step of steps) {
    if (step.unless && (await host.exec(step.unless)).code === 0) continue;
    const run = await host.exec(step.argv);
    if (run.code !== 0 && !step.tolerate?.test(run.output)) {
      throw new LabError('LAB_ERR_IMPAIRMENT_UNSUPPORTED', `${host.name}: \`${step.argv.join(' ')}\` failed: ${run.output}`);
    }
  }
}

/**
 * Impairs the lab interface of some hosts, changeable between steps without restarting anything. The
 * backend is the kernel's to decide: netem where `tc qdisc … netem` works, else iptables random drop
 * (which can only do loss). What is really installed is read back from the kernel for the report.
 */
export class Impairer {
  readonly hosts: ImpairedHost[];
  readonly backend: Backend;
  /** Why this backend: what the netem probe said. */
  readonly reason: string;
  readonly direction: Direction;
  readonly #dev: string;

  private constructor(hosts: ImpairedHost[], backend: Backend, reason: string, direction: Direction, dev: string) {
    this.hosts = hosts;
    this.backend = backend;
    this.reason = reason;
    this.direction = direction;
    this.#dev = dev;
  }

  /** Probes the first host's kernel for netem (by installing and removing a no-op netem qdisc). */
  static async create(hosts: ImpairedHost[], options: { direction?: Direction; dev?: string } = {}): Promise<Impairer> {
    const { direction = 'both', dev = 'eth0' } = options;
    const first = hosts[0];
    if (!first) throw new Error('Impairer.create: no hosts');
    const probe = await first.exec(['tc', 'qdisc', 'replace', 'dev', dev, 'root', 'netem', 'loss', '0%']);
    if (probe.code === 0) {
      await first.exec(['tc', 'qdisc', 'del', 'dev', dev, 'root']);
      return new Impairer(hosts, 'netem', 'tc netem is available', direction, dev);
    }
    const iptables = await first.exec(['iptables', '-w', '-S', 'INPUT']);
    if (iptables.code !== 0) {
      throw new LabError('LAB_ERR_IMPAIRMENT_UNSUPPORTED', `neither tc netem (${probe.output}) nor iptables (${iptables.output}) works on ${first.name}: does it have NET_ADMIN?`);
    }
    return new Impairer(hosts, 'iptables', `no netem in this kernel (tc said: ${probe.output})`, direction, dev);
  }

  #steps(profile: ImpairmentProfile): Step[] {
    const target = { dev: this.#dev, ifb: IFB, direction: this.direction };
    return this.backend === 'netem' ? netemSteps(profile, target) : iptablesSteps(profile, target);
  }

  /** Throws LAB_ERR_IMPAIRMENT_UNSUPPORTED, naming what, when this backend cannot apply `profile`. */
  check(profile: ImpairmentProfile): void {
    this.#steps(profile);
  }

  /**
   * Applies `profile` to every host, replacing what was there, and checks that the kernel holds exactly
   * that (LAB_ERR_IMPAIRMENT_MISMATCH if not); refuses what the backend cannot do.
   */
  async apply(profile: ImpairmentProfile): Promise<void> {
    const steps = this.#steps(profile);
    for (const host of this.hosts) await runSteps(host, steps);
    if (this.backend === 'netem') for (const host of this.hosts) await this.#verify(host, profile);
  }

  /**
   * Reads each netem back as JSON (`tc -j qdisc show`) and compares it with what this direction should
   * have: the profile on the interface's egress for out and both, on the ifb (its ingress) for in and
   * both, nothing elsewhere.
   */
  async #verify(host: ImpairedHost, profile: ImpairmentProfile): Promise<void> {
    const differences: string[] = [];
    for (const [dev, wanted, where] of [
      [this.#dev, this.direction !== 'in', 'egress'],
      [IFB, this.direction !== 'out', 'ingress (ifb)'],
    ] as const) {
      const run = await host.exec(['tc', '-j', 'qdisc', 'show', 'dev', dev]);
      // An ifb that is not there holds nothing; anything else tc cannot answer is an error.
      const installed = run.code === 0 ? parseInstalledNetem(run.output) : /Cannot find device/.test(run.output) ? null : undefined;
      if (installed === undefined) throw new LabError('LAB_ERR_IMPAIRMENT_MISMATCH', `${host.name}: \`tc -j qdisc show dev ${dev}\` failed: ${run.output}`);
      for (const difference of profileDifferences(wanted ? profile : {}, installed)) differences.push(`${where}: ${difference}`);
    }
    if (differences.length > 0) {
      throw new LabError('LAB_ERR_IMPAIRMENT_MISMATCH', `${host.name}: after applying "${formatProfile(profile)}" (${this.direction}), the kernel holds something else: ${differences.join('; ')}`);
    }
  }

  /** What the kernel of each host says is installed (tc qdisc show / iptables -S). */
  async readBack(): Promise<Record<string, string>> {
    const installed: Record<string, string> = {};
    for (const host of this.hosts) {
      const outputs = [];
      for (const step of readBackSteps(this.backend, { dev: this.#dev, ifb: IFB })) {
        const run = await host.exec(step.argv);
        if (run.code === 0) outputs.push(run.output);
      }
      installed[host.name] = outputs.filter(Boolean).join('\n');
    }
    return installed;
  }

  /** One line for people: "loss 10% on packets into tcp-server, udp-relay (iptables)". */
  describe(profile: ImpairmentProfile): string {
    const where = { in: 'packets into', out: 'packets out of', both: 'packets into and out of' }[this.direction];
    return `${formatProfile(profile)} on ${where} ${this.hosts.map((h) => h.name).join(', ')} (${this.backend})`;
  }
}

/** Makes every TCP packet one segment on each of `hosts` (see segmentSizedPacketSteps). */
export async function useSegmentSizedPackets(hosts: ImpairedHost[], dev = 'eth0'): Promise<void> {
  for (const host of hosts) await runSteps(host, segmentSizedPacketSteps({ dev }));
}
