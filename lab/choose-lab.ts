import { spawnSync } from 'node:child_process';
import { LabError } from '@lab/protocol';
import type { LabBackend } from './lab.ts';

export const labChoices = ['auto', 'containers', 'namespaces', 'loopback'] as const;
export type LabChoice = (typeof labChoices)[number];

/** Whether a Docker engine answers (not whether one could be installed). */
export function dockerEngineReachable(): boolean {
  const result = spawnSync('docker', ['info', '--format', '{{.ServerVersion}}'], { encoding: 'utf8', timeout: 10_000 });
  return result.status === 0 && result.stdout.trim() !== '';
}

/**
 * Which lab to run, and why, in words for the user. auto: Docker when an engine answers; else network
 * namespaces as root; else loopback. An explicit choice the machine cannot honour fails clearly.
 */
export function chooseLab(choice: LabChoice, facts = { docker: dockerEngineReachable, root: () => process.getuid?.() === 0 }): { backend: LabBackend; why: string } {
  if (choice === 'containers') return { backend: 'containers', why: 'asked for with --lab containers' };
  if (choice === 'namespaces') {
    if (!facts.root()) throw new LabError('LAB_ERR_CONFIG', '--lab namespaces needs root (it creates network namespaces and veth pairs); without root, --lab loopback runs the unimpaired experiment');
    return { backend: 'namespaces', why: 'asked for with --lab namespaces' };
  }
  if (choice === 'loopback') return { backend: 'loopback', why: 'asked for with --lab loopback' };
  if (facts.docker()) return { backend: 'containers', why: 'a Docker engine answers' };
  if (facts.root()) return { backend: 'namespaces', why: 'no Docker engine answers, and this is root: local processes in network namespaces' };
  return { backend: 'loopback', why: 'no Docker engine answers and this is not root: local processes on loopback, unimpaired' };
}
