import { z } from 'zod';
import { DEFAULT_MAX_HEADER_BYTES } from '@lab/protocol';
import { loggingOptions, nonNegativeIntSchema, portSchema, positiveIntSchema, type OptionSpecs } from '@lab/runtime';

export const tcpServerOptions = {
  host: { description: 'address to listen on (:: for IPv6 and IPv4)', env: 'TCP_SERVER_HOST', default: '0.0.0.0', schema: z.string().min(1) },
  port: { description: 'TCP port to listen on (0 picks a free one)', env: 'TCP_SERVER_PORT', default: '9000', schema: portSchema },
  backlog: { description: 'listen(2) backlog', env: 'TCP_SERVER_BACKLOG', default: '511', schema: positiveIntSchema },
  dataDir: { description: 'directory where files are stored', env: 'TCP_SERVER_DATA_DIR', default: '/data', schema: z.string().min(1) },
  maxFileBytes: { description: 'largest file accepted, in bytes', env: 'TCP_SERVER_MAX_FILE_BYTES', default: String(8 * 1024 ** 3), schema: nonNegativeIntSchema },
  maxHeaderBytes: { description: 'largest frame header accepted, in bytes', env: 'TCP_SERVER_MAX_HEADER_BYTES', default: String(DEFAULT_MAX_HEADER_BYTES), schema: positiveIntSchema },
  idleTimeoutMs: { description: 'close a connection idle for this long, in ms', env: 'TCP_SERVER_IDLE_TIMEOUT_MS', default: '60000', schema: positiveIntSchema },
  ...loggingOptions,
} satisfies OptionSpecs;
