import { spawnSync } from 'node:child_process';
import { LabError } from '@lab/protocol';
import type { LabBackend } from '@lab/results';
import { hostHasNetem } from './netem-probe.ts';
import { findUmlKernel } from './uml-kernel.ts';

export const labChoices = ['auto', 'containers', 'namespaces', 'loopback', 'uml'] as const;
export type LabChoice = (typeof labChoices)[number];

/** Whether a Docker engine answers (not whether one could be installed). */
export function dockerEngineReachable(): boolean {
  const result = spawnSync('docker', ['info', '--format', '{{.ServerVersion}}'], { encoding: 'utf8', timeout: 10_000 });
  return result.status === 0 && result.stdout.trim() !== '';
}

/** What the machine offers, asked only when the choice depends on it. */
export interface LabFacts {
  docker: () => boolean;
  root: () => boolean;
  hostNetem: () => { netem: boolean; evidence: string };
  /** A user-mode Linux kernel is installed, or can be (Debian as root: the bootstrap installs it). */
  uml: () => boolean;
}

const isRoot = () => process.getuid?.() === 0;
const canInstall = () => isRoot() && spawnSync('sh', ['-c', 'command -v apt-get'], { encoding: 'utf8' }).status === 0;

export const machineFacts: LabFacts = {
  docker: dockerEngineReachable,
  root: isRoot,
  hostNetem: hostHasNetem,
  uml: () => findUmlKernel() !== null || canInstall(),
};

/**
 * Which lab to run, and why, in words for the user. auto: where the sweep needs netem (anything but
 * plain random loss: `needsNetem` names what) and the host's kernel has none, the lab in a user-mode
 * Linux kernel that has it; otherwise Docker when an engine answers, else network namespaces as root,
 * else loopback. An explicit choice the machine cannot honour fails clearly.
 */
export function chooseLab(choice: LabChoice, needsNetem: readonly string[] = [], facts: LabFacts = machineFacts): { backend: LabBackend; why: string } {
  if (choice === 'containers') return { backend: 'containers', why: 'asked for with --lab containers' };
  if (choice === 'namespaces') {
    if (!facts.root()) throw new LabError('LAB_ERR_CONFIG', '--lab namespaces needs root (it creates network namespaces and veth pairs); without root, --lab loopback runs the unimpaired experiment');
    return { backend: 'namespaces', why: 'asked for with --lab namespaces' };
  }
  if (choice === 'loopback') return { backend: 'loopback', why: 'asked for with --lab loopback' };
  if (choice === 'uml') return { backend: 'uml', why: 'asked for with --lab uml' };
  if (needsNetem.length > 0) {
    const host = facts.hostNetem();
    if (!host.netem && facts.uml()) {
      return { backend: 'uml', why: `${needsNetem.join(', ')} need${needsNetem.length === 1 ? 's' : ''} tc netem, which this kernel does not have (${host.evidence}): the namespace lab inside a user-mode Linux kernel that has it` };
    }
  }
  if (facts.docker()) return { backend: 'containers', why: 'a Docker engine answers' };
  if (facts.root()) return { backend: 'namespaces', why: 'no Docker engine answers, and this is root: local processes in network namespaces' };
  return { backend: 'loopback', why: 'no Docker engine answers and this is not root: local processes on loopback, unimpaired' };
}
