import type { ImpairedHost, Run } from '@lab/impairment';

/**
 * A running lab, whatever runs it: the three services on one network, the servers impairable, and a
 * client host the experiment runs in. The sweep only talks to this.
 */
export interface Lab {
  /** "containers" (Docker); issue 6 adds local processes in network namespaces. */
  readonly backend: string;
  /** One line for people: where the services run and on what network. */
  readonly description: string;
  /** The TCP server's and the relay's hosts, in that order: where loss is injected. */
  readonly servers: [ImpairedHost, ImpairedHost];
  /** The host the client runs in; root access there is for its interface settings only. */
  readonly client: ImpairedHost;
  /** Runs `client ARGS…` in the client host as the lab's unprivileged user. */
  runClient(args: string[]): Promise<Run & { stdout: string }>;
  /** Stops everything it started; safe to call twice. */
  close(): Promise<void>;
}
