import { spawnSync } from 'node:child_process';
import { LabError } from '@lab/protocol';
import { startDumpcap, type RunningCapture } from './dumpcap.ts';

/**
 * How a lab captures its client host's lab interface (eth0 in the client's network namespace), or why
 * it cannot. Every lab captures the same interface from the same side, so every lab's ladder is the
 * client's view: its SYN leaves, the server's SYN-ACK arrives.
 */
export type PacketCapturer = { start(file: string): Promise<RunningCapture> } | { unavailable: string };

/** The interface the client's lab traffic uses, in every lab that has a network of its own. */
const CLIENT_INTERFACE = 'eth0';

/** Is there a dumpcap to run? Where there is none, no lab captures, and says which package brings it. */
function dumpcapMissing(): string | null {
  const probe = spawnSync('dumpcap', ['--version'], { stdio: 'ignore' });
  return probe.error ? 'dumpcap is not installed (it comes with tshark: on Debian, apt-get install tshark; scripts/bootstrap.sh installs it as root)' : null;
}

/** The namespaces labs (also inside the user-mode kernel): dumpcap in the client's namespace, as root. */
export function namespaceCapturer(namespace: string): PacketCapturer {
  const missing = dumpcapMissing();
  if (missing) return { unavailable: missing };
  return { start: (file) => startDumpcap(['ip', 'netns', 'exec', namespace], CLIENT_INTERFACE, file) };
}

/**
 * A container's interface, from the host: dumpcap in the container's network namespace (nsenter(1) into
 * /proc/PID/ns/net), so the image needs no capture tools and the client no capability. That needs root on
 * the host and a Docker engine on this kernel (not a VM's, as Docker Desktop's is).
 */
export function containerCapturer(container: string): PacketCapturer {
  const missing = dumpcapMissing();
  if (missing) return { unavailable: missing };
  if (process.getuid?.() !== 0) return { unavailable: "capturing the client container's interface enters its network namespace from the host, which needs root (run the demo as root)" };
  return {
    start: (file) => {
      const pid = spawnSync('docker', ['inspect', '-f', '{{.State.Pid}}', container], { encoding: 'utf8' }).stdout?.trim();
      if (!pid || !/^[1-9]\d*$/.test(pid)) throw new LabError('LAB_ERR_CONFIG', `cannot find the client container's process (docker inspect ${container}: ${JSON.stringify(pid)})`);
      return startDumpcap(['nsenter', `--net=/proc/${pid}/ns/net`], CLIENT_INTERFACE, file);
    },
  };
}
