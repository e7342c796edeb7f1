#!/usr/bin/env node
import { formatHostPort, LabError } from '@lab/protocol';
import { createLogger, onShutdown, parseCommandLine, runMain } from '@lab/runtime';
import { udpRelayOptions } from './config.ts';
import { findLabInterface } from './lab-interface.ts';
import { multicastGroupFor } from './multicast-group.ts';
import { UdpRelay } from './relay.ts';

const usage = 'node services/udp-relay/src/main.ts [options]';
const description = [
  'The lab\'s UDP relay: members join a room (after a return-path cookie check) in one of three modes,',
  'and each datagram a member sends reaches the room by unicast fan-out, subnet broadcast or IP multicast.',
  'Format and limits: docs/udp-datagram.md.',
].join('\n');

async function main(): Promise<void> {
  const cli = parseCommandLine(udpRelayOptions, { usage, description });
  if (!cli) return;
  const config = cli.values;
  if (config.memberTtlMs < 2 * config.keepaliveMs) {
    throw new LabError('LAB_ERR_CONFIG', `--member-ttl-ms (${config.memberTtlMs}) must be at least twice --keepalive-ms (${config.keepaliveMs}), or healthy members expire between keepalives`);
  }
  const log = createLogger('udp-relay', config);
  const lab = findLabInterface();
  const offers = new Set(config.modes);
  const broadcastAddress = !offers.has('broadcast') ? null : config.broadcast === 'auto' ? (lab?.broadcast ?? null) : config.broadcast;
  if (offers.has('broadcast') && !broadcastAddress) log.warn('no-broadcast', { msg: 'no non-loopback IPv4 interface: broadcast mode is off' });
  const relay = new UdpRelay({
    log,
    limits: {
      maxDatagramBytes: config.maxDatagramBytes,
      maxRooms: config.maxRooms,
      maxMembersPerRoom: config.maxMembersPerRoom,
      maxRoomsPerSource: config.maxRoomsPerSource,
      memberTtlMs: config.memberTtlMs,
      keepaliveMs: config.keepaliveMs,
      packetsPerSecond: config.ratePackets,
      bytesPerSecond: config.rateBytes,
    },
    delivery: {
      broadcast: broadcastAddress ? { address: broadcastAddress, port: config.broadcastPort } : null,
      multicast: offers.has('multicast') ? { groupFor: (room) => multicastGroupFor(config.multicastPrefix, room), port: config.multicastPort } : null,
    },
    multicastInterface: lab?.address ?? null,
    multicastTtl: config.multicastTtl,
    statsIntervalMs: config.statsIntervalMs,
    receiveBufferBytes: config.receiveBufferBytes,
  });
  const address = await relay.bind(config.host, config.port);
  log.info('modes', {
    msg: [
      'modes: unicast',
      broadcastAddress ? `broadcast to ${broadcastAddress}:${config.broadcastPort}` : 'no broadcast',
      offers.has('multicast') ? `multicast to ${multicastGroupFor(config.multicastPrefix, 0)}… port ${config.multicastPort} ttl ${config.multicastTtl}` : 'no multicast',
    ].join(', '),
    interface: lab?.name ?? null,
  });
  // The fixed readiness line: testcontainers cannot port-check UDP, so tests wait for this text.
  log.info('listening', { msg: `listening on udp ${formatHostPort(address.address, address.port)}`, address: address.address, port: address.port });
  onShutdown(() => relay.close(), (signal) => log.info('shutdown', { signal }));
}

runMain('udp-relay', main);
