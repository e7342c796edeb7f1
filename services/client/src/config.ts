import { z } from 'zod';
import { DATAGRAM_HEADER_BYTES } from '@lab/protocol';
import { loggingOptions, nonNegativeIntSchema, portSchema, positiveIntSchema, type OptionSpecs } from '@lab/runtime';

export const experimentOptions = {
  tcpHost: { description: 'TCP file server host', env: 'TCP_SERVER_HOST', default: 'tcp-server', schema: z.string().min(1) },
  tcpPort: { description: 'TCP file server port', env: 'TCP_SERVER_PORT', default: '9000', schema: portSchema.min(1) },
  relayHost: { description: 'UDP relay host', env: 'UDP_RELAY_HOST', default: 'udp-relay', schema: z.string().min(1) },
  relayPort: { description: 'UDP relay port', env: 'UDP_RELAY_PORT', default: '9001', schema: portSchema.min(1) },
  fileBytes: { description: 'size of the file sent over TCP, in bytes', env: 'LAB_FILE_BYTES', default: String(8 * 1024 * 1024), schema: nonNegativeIntSchema },
  datagrams: { description: 'number of datagrams sent over UDP', env: 'LAB_DATAGRAMS', default: '1000', schema: positiveIntSchema },
  datagramBytes: {
    description: `bytes per datagram, ${DATAGRAM_HEADER_BYTES}-byte header included (1472 fills a 1500-byte Ethernet MTU)`,
    env: 'LAB_DATAGRAM_BYTES',
    default: '512',
    schema: z.coerce.number().int().min(DATAGRAM_HEADER_BYTES).max(1472),
  },
  rate: { description: 'datagrams per second', env: 'LAB_RATE', default: '2000', schema: z.coerce.number().positive().max(1_000_000) },
  receivers: { description: 'UDP receivers in the room', env: 'LAB_RECEIVERS', default: '2', schema: z.coerce.number().int().min(1).max(32) },
  room: { description: 'relay room number', env: 'LAB_ROOM', default: '1', schema: z.coerce.number().int().min(0).max(2 ** 32 - 1) },
  drainMs: { description: 'how long receivers listen after the last datagram, in ms', env: 'LAB_DRAIN_MS', default: '1000', schema: nonNegativeIntSchema },
  connectTimeoutMs: { description: 'how long to retry connecting and joining, in ms', env: 'LAB_CONNECT_TIMEOUT_MS', default: '20000', schema: positiveIntSchema },
  json: { description: 'print the result as JSON instead of a table', env: 'LAB_JSON', boolean: true, schema: z.boolean().default(false) },
  ...loggingOptions,
} satisfies OptionSpecs;
