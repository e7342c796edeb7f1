import { z } from 'zod';
import { DATAGRAM_HEADER_BYTES, deliveryModes, endpointSchema } from '@lab/protocol';
import { loggingOptions, nonNegativeIntSchema, portSchema, positiveIntSchema, type OptionSpecs } from '@lab/runtime';

/** Options every command has. */
export const connectionOptions = {
  server: { description: 'TCP file server: HOST:PORT, [IPV6]:PORT or unix:/path', env: 'LAB_SERVER', default: 'tcp-server:9000', schema: endpointSchema },
  connectTimeoutMs: { description: 'how long to retry connecting (and joining), in ms', env: 'LAB_CONNECT_TIMEOUT_MS', default: '20000', schema: positiveIntSchema },
  ...loggingOptions,
} satisfies OptionSpecs;

export const jsonOption = {
  json: { description: 'print the result as one JSON object instead of text', env: 'LAB_JSON', boolean: true, schema: z.boolean().default(false) },
} satisfies OptionSpecs;

/** Options of send and get. */
export const transferOptions = {
  retries: { description: 'attempts after the first when the connection drops; each resumes where the last stopped', env: 'LAB_RETRIES', default: '5', schema: nonNegativeIntSchema.max(100) },
  limitRate: { description: 'at most this many bytes per second (0: no limit)', env: 'LAB_LIMIT_RATE', default: '0', schema: nonNegativeIntSchema },
  progress: {
    description: 'progress display: auto (a bar on a terminal, lines otherwise), bar, lines, none',
    env: 'LAB_PROGRESS',
    default: 'auto',
    schema: z.enum(['auto', 'bar', 'lines', 'none']),
  },
  ...jsonOption,
} satisfies OptionSpecs;

/** What a UDP receiver is told about lateness and its socket. */
export const udpMeasureOptions = {
  lateMs: { description: 'a datagram whose transit exceeds the fastest one\'s by more than this is late, in ms', env: 'LAB_LATE_MS', default: '50', schema: nonNegativeIntSchema },
  receiveBufferBytes: { description: 'SO_RCVBUF of receiving sockets in bytes (0: the kernel default)', env: 'LAB_RCVBUF', default: '0', schema: nonNegativeIntSchema },
} satisfies OptionSpecs;

export const experimentOptions = {
  ...connectionOptions,
  relay: { description: 'UDP relay host', env: 'UDP_RELAY_HOST', default: 'udp-relay', schema: z.string().min(1) },
  relayPort: { description: 'UDP relay port', env: 'UDP_RELAY_PORT', default: '9001', schema: portSchema.min(1) },
  fileBytes: { description: 'size of the file sent over TCP, in bytes', env: 'LAB_FILE_BYTES', default: String(8 * 1024 * 1024), schema: nonNegativeIntSchema },
  tcpDeadlineMs: {
    description: 'cut the TCP upload and download after this many ms in all and report LAB_ERR_DEADLINE (0: no limit)',
    env: 'LAB_TCP_DEADLINE_MS',
    default: '0',
    schema: nonNegativeIntSchema,
  },
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
  settleMs: {
    description: 'pause between the TCP part and the UDP part, in ms, so that the hosts have finished the transfer\'s own work before the stream is timed',
    env: 'LAB_SETTLE_MS',
    default: '0',
    schema: nonNegativeIntSchema,
  },
  ...udpMeasureOptions,
  chatLines: {
    description: 'after the UDP part, lines "line 1", "line 2", … sent at the same moments through TCP chat (the server\'s room experiment-chat-R) and UDP chat (the relay\'s room R, R = --room + the number of modes), each to a listener of this client (0: no chat part)',
    env: 'LAB_CHAT_LINES',
    default: '20',
    schema: z.coerce.number().int().min(0).max(1000),
  },
  chatIntervalMs: { description: 'ms between two chat lines', env: 'LAB_CHAT_INTERVAL_MS', default: '50', schema: z.coerce.number().int().min(1).max(10_000) },
  liveMs: {
    description: 'every this many ms, write to stderr how the TCP connection and each UDP receiver are doing, one `sample: {json}` line each (for the demo\'s live page; 0: never)',
    env: 'LAB_LIVE_MS',
    default: '0',
    schema: nonNegativeIntSchema,
  },
  modes: {
    description: `delivery modes to measure, comma-separated: ${deliveryModes.join(', ')}`,
    env: 'LAB_MODES',
    default: deliveryModes.join(','),
    schema: z
      .string()
      .transform((text) => text.split(',').map((mode) => mode.trim()))
      .pipe(z.array(z.enum(deliveryModes)).min(1)),
  },
  ...jsonOption,
} satisfies OptionSpecs;

/** Options of the UDP commands: where the relay is, which room, which mode. */
export const udpRoomOptions = {
  relay: { description: 'UDP relay host', env: 'UDP_RELAY_HOST', default: 'udp-relay', schema: z.string().min(1) },
  relayPort: { description: 'UDP relay port', env: 'UDP_RELAY_PORT', default: '9001', schema: portSchema.min(1) },
  room: { description: 'relay room number', env: 'LAB_ROOM', default: '1', schema: z.coerce.number().int().min(0).max(2 ** 32 - 1) },
  mode: { description: `delivery mode: ${deliveryModes.join(', ')}`, env: 'LAB_MODE', default: 'unicast', schema: z.enum(deliveryModes) },
  joinTimeoutMs: { description: 'how long to retry joining, in ms', env: 'LAB_CONNECT_TIMEOUT_MS', default: '20000', schema: positiveIntSchema },
  ...loggingOptions,
} satisfies OptionSpecs;

export const streamOptions = {
  ...udpRoomOptions,
  datagrams: { description: 'number of datagrams to send', env: 'LAB_DATAGRAMS', default: '1000', schema: positiveIntSchema },
  datagramBytes: {
    description: `bytes per datagram, ${DATAGRAM_HEADER_BYTES}-byte header included`,
    env: 'LAB_DATAGRAM_BYTES',
    default: '512',
    schema: z.coerce.number().int().min(DATAGRAM_HEADER_BYTES).max(1472),
  },
  rate: { description: 'datagrams per second', env: 'LAB_RATE', default: '2000', schema: z.coerce.number().positive().max(1_000_000) },
  ...jsonOption,
} satisfies OptionSpecs;

export const receiveOptions = {
  ...udpRoomOptions,
  ...udpMeasureOptions,
  timeoutMs: { description: 'give up waiting for a stream after this many ms', env: 'LAB_RECEIVE_TIMEOUT_MS', default: '60000', schema: positiveIntSchema },
  drainMs: { description: 'after the end (or 2 s of silence), listen this much longer, in ms', env: 'LAB_DRAIN_MS', default: '1000', schema: nonNegativeIntSchema },
  ...jsonOption,
} satisfies OptionSpecs;

export const udpChatOptions = {
  ...udpRoomOptions,
  name: { description: 'your name in the chat', env: 'LAB_CHAT_NAME', default: 'anonymous', schema: z.string().min(1).max(40) },
} satisfies OptionSpecs;

export const chatOptions = {
  ...connectionOptions,
  room: { description: 'chat room to join', env: 'LAB_CHAT_ROOM', default: 'lobby', schema: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/) },
} satisfies OptionSpecs;
