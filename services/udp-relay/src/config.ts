import { z } from 'zod';
import { MAX_UDP_PAYLOAD_BYTES, DATAGRAM_HEADER_BYTES } from '@lab/protocol';
import { loggingOptions, nonNegativeIntSchema, portSchema, positiveIntSchema, type OptionSpecs } from '@lab/runtime';

export const udpRelayOptions = {
  host: { description: 'address to bind (:: for IPv6)', env: 'UDP_RELAY_HOST', default: '0.0.0.0', schema: z.string().min(1) },
  port: { description: 'UDP port to bind (0 picks a free one)', env: 'UDP_RELAY_PORT', default: '9001', schema: portSchema },
  maxDatagramBytes: {
    description: 'largest datagram accepted, header included',
    env: 'UDP_RELAY_MAX_DATAGRAM_BYTES',
    default: '1472',
    schema: z.coerce.number().int().min(DATAGRAM_HEADER_BYTES).max(MAX_UDP_PAYLOAD_BYTES),
  },
  maxRooms: { description: 'most rooms at once', env: 'UDP_RELAY_MAX_ROOMS', default: '1024', schema: positiveIntSchema },
  maxMembersPerRoom: { description: 'most members in one room', env: 'UDP_RELAY_MAX_MEMBERS', default: '64', schema: positiveIntSchema },
  statsIntervalMs: { description: 'period of the counters log line in ms (0: only at shutdown)', env: 'UDP_RELAY_STATS_INTERVAL_MS', default: '10000', schema: nonNegativeIntSchema },
  ...loggingOptions,
} satisfies OptionSpecs;
