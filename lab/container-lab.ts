import { deliveryModes } from '@lab/protocol';
import type { Lab } from './lab.ts';
import { containerCapturer } from './capture/client-capture.ts';
import { dockerExecRun, dockerRootExec } from './docker-exec.ts';
import { programs } from './service-process.ts';

export interface LabContainers {
  tcpServer: string;
  udpRelay: string;
  /** A long-lived client container (its command just waits) that experiments are exec'd in. */
  client: string;
}

/**
 * The lab as Docker containers that are already running (started by Compose for the demo, by
 * testcontainers in the tests): impaired and driven with `docker exec`.
 */
export function containerLab(ids: LabContainers, description: string, close: () => Promise<void>, names = { tcpServer: 'tcp-server', udpRelay: 'udp-relay', client: 'client' }): Lab {
  let closed: Promise<void> | undefined;
  return {
    backend: 'containers',
    description,
    hosts: {
      tcpServer: { name: names.tcpServer, exec: dockerRootExec(ids.tcpServer) },
      udpRelay: { name: names.udpRelay, exec: dockerRootExec(ids.udpRelay) },
      client: { name: names.client, exec: dockerRootExec(ids.client) },
    },
    modes: deliveryModes,
    limits: [],
    capture: containerCapturer(ids.client),
    // No timeout here: the client has its own (connect, join, the TCP part's deadline).
    runClient: (args, onStderrLine) => dockerExecRun(ids.client, ['node', programs.client, ...args], { timeoutMs: 0, ...(onStderrLine && { onStderrLine }) }),
    close: () => (closed ??= close()),
  };
}
