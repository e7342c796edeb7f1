import { LabError } from '@lab/protocol';
import { formatProfile, netemArguments, type ImpairmentProfile } from './profile.ts';

/**
 * One command run inside a lab container (as root, with NET_ADMIN), as argv: never a shell string.
 * `unless`: skip it when this check command succeeds (iptables -C before -I, so rules are not doubled).
 * `tolerate`: an error output that means "already so" (deleting what is not there).
 */
export interface Step {
  argv: string[];
  unless?: string[];
  tolerate?: RegExp;
}

export type Backend = 'netem' | 'iptables';

export interface Target {
  /** The container's lab interface, e.g. eth0. */
  dev: string;
  /** The ifb device that ingress traffic is redirected to, so netem can shape it (tc-mirred(8)). */
  ifb?: string;
}

const absent = /Cannot find device|No such file or directory|Cannot delete qdisc with handle of zero|does not exist|Invalid handle|No such device/;

/**
 * netem on egress (root qdisc of the interface) and on ingress (redirected to an ifb device, where it
 * is egress again: netem only shapes what leaves a device). `replace` makes every step idempotent, so a
 * sweep changes the profile between steps without restarting anything.
 */
export function netemSteps(profile: ImpairmentProfile, { dev, ifb = 'ifb0' }: Target): Step[] {
  const args = netemArguments(profile);
  if (args.length === 0) return clearNetemSteps({ dev, ifb });
  return [
    { argv: ['tc', 'qdisc', 'replace', 'dev', dev, 'root', 'netem', ...args] },
    { argv: ['ip', 'link', 'add', ifb, 'type', 'ifb'], tolerate: /File exists/ },
    { argv: ['ip', 'link', 'set', ifb, 'up'] },
    { argv: ['tc', 'qdisc', 'replace', 'dev', dev, 'handle', 'ffff:', 'ingress'] },
    { argv: ['tc', 'filter', 'replace', 'dev', dev, 'parent', 'ffff:', 'protocol', 'all', 'prio', '1', 'matchall', 'action', 'mirred', 'egress', 'redirect', 'dev', ifb] },
    { argv: ['tc', 'qdisc', 'replace', 'dev', ifb, 'root', 'netem', ...args] },
  ];
}

export function clearNetemSteps({ dev, ifb = 'ifb0' }: Target): Step[] {
  return [
    { argv: ['tc', 'qdisc', 'del', 'dev', dev, 'root'], tolerate: absent },
    { argv: ['tc', 'qdisc', 'del', 'dev', dev, 'ingress'], tolerate: absent },
    { argv: ['ip', 'link', 'del', ifb], tolerate: absent },
  ];
}

export const IPTABLES_CHAIN = 'LAB-IMPAIR';

/**
 * Where the kernel has no netem: random loss with iptables' statistic match
 * (iptables-extensions(8): `-m statistic --mode random --probability P`), on input and output of the
 * lab interface, so both directions lose packets independently with probability P. Anything else in
 * the profile cannot be done this way and is refused, never silently dropped.
 */
export function iptablesSteps(profile: ImpairmentProfile, { dev }: Target): Step[] {
  const unsupported = Object.keys(profile).filter((key) => key !== 'loss');
  if (profile.loss?.kind === 'gemodel') unsupported.push('loss gemodel');
  if (profile.loss?.kind === 'random' && profile.loss.correlation !== undefined) unsupported.push('loss correlation');
  if (unsupported.length > 0) {
    throw new LabError(
      'LAB_ERR_IMPAIRMENT_UNSUPPORTED',
      `"${formatProfile(profile)}": ${unsupported.join(', ')} need${unsupported.length === 1 ? 's' : ''} tc netem, which this kernel does not have; the iptables backend can only drop packets at random ("loss N%")`,
    );
  }
  const steps: Step[] = [
    { argv: ['iptables', '-w', '-N', IPTABLES_CHAIN], tolerate: /Chain already exists/ },
    { argv: ['iptables', '-w', '-F', IPTABLES_CHAIN] },
    { argv: ['iptables', '-w', '-I', 'INPUT', '-i', dev, '-j', IPTABLES_CHAIN], unless: ['iptables', '-w', '-C', 'INPUT', '-i', dev, '-j', IPTABLES_CHAIN] },
    { argv: ['iptables', '-w', '-I', 'OUTPUT', '-o', dev, '-j', IPTABLES_CHAIN], unless: ['iptables', '-w', '-C', 'OUTPUT', '-o', dev, '-j', IPTABLES_CHAIN] },
  ];
  const percent = profile.loss?.kind === 'random' ? profile.loss.percent : 0;
  if (percent > 0) {
    const probability = (percent / 100).toFixed(6).replace(/0+$/, '').replace(/\.$/, '');
    steps.push({ argv: ['iptables', '-w', '-A', IPTABLES_CHAIN, '-m', 'statistic', '--mode', 'random', '--probability', probability, '-j', 'DROP'] });
  }
  return steps;
}

/** Commands that show what is really installed, for the report (read back from the kernel). */
export function readBackSteps(backend: Backend, { dev, ifb = 'ifb0' }: Target): Step[] {
  return backend === 'netem'
    ? [{ argv: ['tc', 'qdisc', 'show', 'dev', dev] }, { argv: ['tc', 'qdisc', 'show', 'dev', ifb], tolerate: absent }]
    : [{ argv: ['iptables', '-w', '-S', IPTABLES_CHAIN], tolerate: /No chain/ }];
}
