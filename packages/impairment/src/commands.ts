import { LabError } from '@lab/protocol';
import { effectiveProfile, formatProfile, netemArguments, type ImpairmentProfile } from './profile.ts';

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

/**
 * Which packets of the interface the profile applies to: those arriving (in), those leaving (out), or
 * both. Loss on both directions of one hop hits a TCP segment and its ACK independently, which at
 * 30% leaves a round trip a 49% chance and TCP in retransmission-timeout backoff for minutes.
 */
export const directions = ['in', 'out', 'both'] as const;
export type Direction = (typeof directions)[number];

export interface Target {
  /** The container's lab interface, e.g. eth0. */
  dev: string;
  /** The ifb device that ingress traffic is redirected to, so netem can shape it (tc-mirred(8)). */
  ifb?: string;
  /** Default both. */
  direction?: Direction;
}

/** How many impaired points a packet crosses going into and then out of one impaired host (a relay). */
export function hopsThrough(direction: Direction): number {
  return direction === 'both' ? 2 : 1;
}

/**
 * Cuts the interface's TCP output into one-segment packets (ip-link(8) gso_max_segs). With generic
 * segmentation offload a veth carries up to 64 KiB of TCP as one packet, so one random drop would take
 * some 45 segments at once; on a real wire each segment is a packet of its own, and so it is here.
 * Run in every lab container, so that what arrives at an impaired interface is segment-sized too.
 */
export function segmentSizedPacketSteps({ dev }: Target): Step[] {
  return [{ argv: ['ip', 'link', 'set', 'dev', dev, 'gso_max_segs', '1'] }];
}

/**
 * What tc and ip answer when asked to delete what is not there (iproute2 6.1 on Linux 6.1, each seen):
 * a root qdisc on a device that has only its default one ("Cannot delete qdisc with handle of zero"), an
 * ingress qdisc on a device that never had one ("Cannot find specified qdisc on specified device") or
 * had one before ("Invalid handle"), a device that does not exist ("Cannot find device").
 */
const absent = /Cannot find device|No such file or directory|Cannot delete qdisc with handle of zero|Cannot find specified qdisc|does not exist|Invalid handle|No such device/;

/**
 * netem on egress (the interface's root qdisc) and on ingress (redirected to an ifb device, where it is
 * egress again: netem only shapes what leaves a device, tc-mirred(8)). Every apply removes what an
 * earlier one installed and adds the new profile afresh, for two reasons seen on a netem kernel:
 * `tc qdisc replace … netem` changes only the options it is given (a reorder, corrupt or rate of the
 * step before stays), and `tc filter replace … matchall` answers "File exists" for the filter it would
 * replace. Between steps nothing is in flight, so starting afresh costs nothing; it also starts each
 * step's Gilbert-Elliott chain and correlation state anew.
 */
export function netemSteps(profile: ImpairmentProfile, { dev, ifb = 'ifb0', direction = 'both' }: Target): Step[] {
  const args = netemArguments(profile);
  const [clearEgress, clearIngress, clearIfb] = clearNetemSteps({ dev, ifb });
  if (args.length === 0) return [clearEgress!, clearIngress!, clearIfb!];
  const egress: Step[] = [clearEgress!, { argv: ['tc', 'qdisc', 'add', 'dev', dev, 'root', 'netem', ...args] }];
  const ingress: Step[] = [
    clearIngress!,
    { argv: ['ip', 'link', 'add', ifb, 'type', 'ifb'], tolerate: /File exists/ },
    { argv: ['ip', 'link', 'set', ifb, 'up'] },
    { argv: ['tc', 'qdisc', 'del', 'dev', ifb, 'root'], tolerate: absent },
    { argv: ['tc', 'qdisc', 'add', 'dev', dev, 'handle', 'ffff:', 'ingress'] },
    { argv: ['tc', 'filter', 'add', 'dev', dev, 'parent', 'ffff:', 'protocol', 'all', 'prio', '1', 'matchall', 'action', 'mirred', 'egress', 'redirect', 'dev', ifb] },
    { argv: ['tc', 'qdisc', 'add', 'dev', ifb, 'root', 'netem', ...args] },
  ];
  if (direction === 'out') return [...egress, clearIngress!, clearIfb!];
  if (direction === 'in') return [clearEgress!, ...ingress];
  return [...egress, ...ingress];
}

/** Removes the lab's netem from egress and ingress and its ifb device; each step tolerates that it is not there. */
export function clearNetemSteps({ dev, ifb = 'ifb0' }: Target): Step[] {
  return [
    { argv: ['tc', 'qdisc', 'del', 'dev', dev, 'root'], tolerate: absent },
    { argv: ['tc', 'qdisc', 'del', 'dev', dev, 'ingress'], tolerate: absent },
    { argv: ['ip', 'link', 'del', ifb], tolerate: absent },
  ];
}

export const IPTABLES_CHAIN = 'LAB-IMPAIR';

/**
 * What of a profile only netem can do: everything but independent random loss, which is all the
 * iptables statistic match does. Words at zero do nothing and need nothing.
 */
export function netemOnly(requested: ImpairmentProfile): string[] {
  const profile = effectiveProfile(requested);
  const words: string[] = Object.keys(profile).filter((key) => key !== 'loss');
  if (profile.loss?.kind === 'gemodel') words.push('loss gemodel');
  if (profile.loss?.kind === 'random' && profile.loss.correlation !== undefined) words.push('loss correlation');
  return words;
}

/**
 * Where the kernel has no netem: random loss with iptables' statistic match
 * (iptables-extensions(8): `-m statistic --mode random --probability P`), on the lab interface's input,
 * output or both, as `direction` says; each direction loses packets independently with probability P. Anything else in
 * the profile cannot be done this way and is refused, never silently dropped.
 */
export function iptablesSteps(requested: ImpairmentProfile, { dev, direction = 'both' }: Target): Step[] {
  const profile = effectiveProfile(requested);
  const unsupported = netemOnly(profile);
  if (unsupported.length > 0) {
    throw new LabError(
      'LAB_ERR_IMPAIRMENT_UNSUPPORTED',
      `"${formatProfile(profile)}": ${unsupported.join(', ')} need${unsupported.length === 1 ? 's' : ''} tc netem, which this kernel does not have; the iptables backend can only drop packets at random ("loss N%")`,
    );
  }
  const jump = (chain: 'INPUT' | 'OUTPUT', wanted: boolean): Step => {
    const rule = [chain, chain === 'INPUT' ? '-i' : '-o', dev, '-j', IPTABLES_CHAIN];
    // Added once (checked with -C first), or removed when this direction is not wanted (any more).
    return wanted
      ? { argv: ['iptables', '-w', '-I', ...rule], unless: ['iptables', '-w', '-C', ...rule] }
      : { argv: ['iptables', '-w', '-D', ...rule], tolerate: /does a matching rule exist|Bad rule/ };
  };
  const steps: Step[] = [
    { argv: ['iptables', '-w', '-N', IPTABLES_CHAIN], tolerate: /Chain already exists/ },
    { argv: ['iptables', '-w', '-F', IPTABLES_CHAIN] },
    jump('INPUT', direction !== 'out'),
    jump('OUTPUT', direction !== 'in'),
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
    : [
        { argv: ['iptables', '-w', '-S', 'INPUT'] },
        { argv: ['iptables', '-w', '-S', 'OUTPUT'] },
        { argv: ['iptables', '-w', '-S', IPTABLES_CHAIN], tolerate: /No chain/ },
      ];
}
