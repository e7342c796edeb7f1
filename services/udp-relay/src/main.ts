#!/usr/bin/env node
import { createLogger, formatAddress, onShutdown, parseCommandLine, runMain } from '@lab/runtime';
import { udpRelayOptions } from './config.ts';
import { UdpRelay } from './relay.ts';

const usage = 'node services/udp-relay/src/main.ts [options]';
const description = 'The lab\'s UDP relay: members join a room, and each datagram a member sends is copied to every other member (unicast fan-out).';

async function main(): Promise<void> {
  const cli = parseCommandLine(udpRelayOptions, { usage, description });
  if (!cli) return;
  const config = cli.values;
  const log = createLogger('udp-relay', config);
  const relay = new UdpRelay({
    log,
    limits: { maxDatagramBytes: config.maxDatagramBytes, maxRooms: config.maxRooms, maxMembersPerRoom: config.maxMembersPerRoom },
    statsIntervalMs: config.statsIntervalMs,
  });
  const address = await relay.bind(config.host, config.port);
  // The fixed readiness line: testcontainers cannot port-check UDP, so tests wait for this text.
  log.info('listening', { msg: `listening on udp ${formatAddress(address)}`, address: address.address, port: address.port });
  onShutdown(() => relay.close(), (signal) => log.info('shutdown', { signal }));
}

runMain('udp-relay', main);
