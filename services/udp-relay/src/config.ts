import { isIPv4 } from 'node:net';
import { z } from 'zod';
import { MAX_UDP_PAYLOAD_BYTES, DATAGRAM_HEADER_BYTES, deliveryModes } from '@lab/protocol';
import { loggingOptions, nonNegativeIntSchema, portSchema, positiveIntSchema, type OptionSpecs } from '@lab/runtime';
import { multicastPrefixSchema } from './multicast-group.ts';

export const udpRelayOptions = {
  host: { description: 'address to bind', env: 'UDP_RELAY_HOST', default: '0.0.0.0', schema: z.string().refine(isIPv4, 'an IPv4 address') },
  port: { description: 'UDP port to bind (0 picks a free one)', env: 'UDP_RELAY_PORT', default: '9001', schema: portSchema },
  modes: {
    description:
      'delivery modes offered, comma-separated. Broadcast and multicast send onto the relay\'s network: offer them on a lab network only (the lab\'s compose file does)',
    env: 'UDP_RELAY_MODES',
    default: 'unicast',
    schema: z
      .string()
      .transform((text) => text.split(',').map((mode) => mode.trim()))
      .pipe(z.array(z.enum(deliveryModes)).min(1)),
  },
  broadcast: {
    description: 'broadcast address: auto (the subnet of the first non-loopback IPv4 interface) or an IPv4 address',
    env: 'UDP_RELAY_BROADCAST',
    default: 'auto',
    schema: z.union([z.literal('auto'), z.string().refine(isIPv4, 'auto or an IPv4 address')]),
  },
  broadcastPort: { description: 'port that broadcast rooms are sent to (receivers listen on it)', env: 'UDP_RELAY_BROADCAST_PORT', default: '9002', schema: portSchema.min(1) },
  multicastPrefix: {
    description: 'multicast mode: rooms map to groups in this prefix inside 239.0.0.0/8 (RFC 2365)',
    env: 'UDP_RELAY_MULTICAST_PREFIX',
    default: '239.0.0.0/8',
    schema: multicastPrefixSchema,
  },
  multicastPort: { description: 'port that multicast rooms are sent to', env: 'UDP_RELAY_MULTICAST_PORT', default: '9003', schema: portSchema.min(1) },
  multicastTtl: { description: 'IP TTL of multicast sends (1: this subnet only)', env: 'UDP_RELAY_MULTICAST_TTL', default: '1', schema: z.coerce.number().int().min(1).max(255) },
  maxDatagramBytes: {
    description: 'largest datagram accepted, header included',
    env: 'UDP_RELAY_MAX_DATAGRAM_BYTES',
    default: '1472',
    schema: z.coerce.number().int().min(DATAGRAM_HEADER_BYTES).max(MAX_UDP_PAYLOAD_BYTES),
  },
  maxRooms: { description: 'most rooms at once', env: 'UDP_RELAY_MAX_ROOMS', default: '1024', schema: positiveIntSchema },
  maxMembersPerRoom: { description: 'most members in one room', env: 'UDP_RELAY_MAX_MEMBERS', default: '64', schema: positiveIntSchema },
  maxRoomsPerSource: { description: 'most rooms one source address may be a member of', env: 'UDP_RELAY_MAX_ROOMS_PER_SOURCE', default: '16', schema: positiveIntSchema },
  memberTtlMs: { description: 'a member that sent no keepalive for this long is dropped, in ms (at least twice --keepalive-ms)', env: 'UDP_RELAY_MEMBER_TTL_MS', default: '30000', schema: positiveIntSchema },
  keepaliveMs: { description: 'how often members are told to send a keepalive, in ms', env: 'UDP_RELAY_KEEPALIVE_MS', default: '5000', schema: positiveIntSchema },
  ratePackets: { description: 'most datagrams per second from one source address', env: 'UDP_RELAY_RATE_PACKETS', default: '20000', schema: positiveIntSchema },
  rateBytes: { description: 'most bytes per second from one source address', env: 'UDP_RELAY_RATE_BYTES', default: '50000000', schema: positiveIntSchema },
  receiveBufferBytes: { description: 'SO_RCVBUF of the relay socket in bytes (the kernel caps it at net.core.rmem_max)', env: 'UDP_RELAY_RCVBUF', default: String(4 * 1024 * 1024), schema: positiveIntSchema },
  statsIntervalMs: { description: 'period of the counters log line in ms (0: only at shutdown)', env: 'UDP_RELAY_STATS_INTERVAL_MS', default: '10000', schema: nonNegativeIntSchema },
  ...loggingOptions,
} satisfies OptionSpecs;
