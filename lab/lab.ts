import type { ImpairedHost, Run } from '@lab/impairment';
import type { DeliveryMode } from '@lab/protocol';
import type { LabBackend } from '@lab/results';
import type { PacketCapturer } from './capture/client-capture.ts';

/**
 * A running lab, whatever runs it: the three services on one network, and a client host the
 * experiment runs in. The sweep only talks to this.
 *   containers: Docker, an internal network (lab/compose-lab.ts, and the tests' testcontainers);
 *   namespaces: local processes, one network namespace each, veth pairs into a bridge (root);
 *   loopback:   local processes on 127.0.0.1, for those without root: no impairment, unicast only;
 *   uml:        the namespaces lab inside a user-mode Linux kernel (lab/uml-lab.ts), for netem on any host.
 */
export interface Lab {
  readonly backend: LabBackend;
  /** One line for people: where the services run and on what network. */
  readonly description: string;
  /**
   * Root access to each host's network: the TCP server's and the relay's (where loss is injected), and
   * the client's (for its interface settings only). Null where the lab cannot touch the network.
   */
  readonly hosts: LabHosts | null;
  /** The UDP delivery modes this lab's network carries. */
  readonly modes: readonly DeliveryMode[];
  /** What this lab cannot do, said plainly (it goes into the report). */
  readonly limits: readonly string[];
  /**
   * Datagrams per second above which this lab's own CPU, not the network, shapes the UDP stream's
   * jitter and lateness (the user-mode kernel has one slow CPU); absent where no such limit is known.
   */
  readonly honestUdpRate?: number;
  /** Captures the client host's lab interface during each step, or says why it cannot (the report says it too). */
  readonly capture: PacketCapturer;
  /**
   * Runs `client ARGS…` in the client host as the lab's unprivileged user. `onStderrLine` is told each
   * line of its stderr as it comes; the lines it takes (answers true for) are kept out of `output`.
   */
  runClient(args: string[], onStderrLine?: (line: string) => boolean): Promise<Run & { stdout: string }>;
  /** What the servers logged so far, where the lab holds it (local processes; containers' logs are Docker's). */
  serverLogs?(): string;
  /** Stops everything it started and removes what it made; safe to call twice. */
  close(): Promise<void>;
}

/** Root access to each host of a lab, by role. */
export interface LabHosts {
  tcpServer: ImpairedHost;
  udpRelay: ImpairedHost;
  client: ImpairedHost;
}

/** The hosts the impairment goes on: both servers (the TCP server's and the relay's way in and out). */
export const impairedHosts = (hosts: LabHosts): ImpairedHost[] => [hosts.tcpServer, hosts.udpRelay];
