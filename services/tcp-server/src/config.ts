import { z } from 'zod';
import { DEFAULT_MAX_HEADER_BYTES, endpointListSchema } from '@lab/protocol';
import { loggingOptions, nonNegativeIntSchema, positiveIntSchema, type OptionSpecs } from '@lab/runtime';

export const tcpServerOptions = {
  listen: {
    description: 'where to listen, comma-separated: HOST:PORT, [IPV6]:PORT, unix:/path (port 0 picks a free one)',
    env: 'TCP_SERVER_LISTEN',
    default: '0.0.0.0:9000',
    schema: endpointListSchema,
  },
  backlog: { description: 'listen(2) backlog (capped by net.core.somaxconn)', env: 'TCP_SERVER_BACKLOG', default: '511', schema: positiveIntSchema },
  dataDir: { description: 'directory where files are stored', env: 'TCP_SERVER_DATA_DIR', default: '/data', schema: z.string().min(1) },
  maxFileBytes: { description: 'largest file accepted, in bytes', env: 'TCP_SERVER_MAX_FILE_BYTES', default: String(8 * 1024 ** 3), schema: nonNegativeIntSchema },
  quotaBytes: {
    description: 'storage quota: stored files plus kept partial uploads plus uploads in flight, in bytes',
    env: 'TCP_SERVER_QUOTA_BYTES',
    default: String(16 * 1024 ** 3),
    schema: nonNegativeIntSchema,
  },
  maxConnections: { description: 'most connections open at once', env: 'TCP_SERVER_MAX_CONNECTIONS', default: '256', schema: positiveIntSchema },
  maxHeaderBytes: { description: 'largest frame header accepted, in bytes', env: 'TCP_SERVER_MAX_HEADER_BYTES', default: String(DEFAULT_MAX_HEADER_BYTES), schema: positiveIntSchema },
  headerTimeoutMs: { description: 'a begun frame header must complete within this many ms', env: 'TCP_SERVER_HEADER_TIMEOUT_MS', default: '10000', schema: positiveIntSchema },
  idleTimeoutMs: { description: 'close a connection silent for this many ms', env: 'TCP_SERVER_IDLE_TIMEOUT_MS', default: '300000', schema: positiveIntSchema },
  graceMs: { description: 'on SIGTERM, let transfers in progress finish for this many ms', env: 'TCP_SERVER_GRACE_MS', default: '5000', schema: nonNegativeIntSchema },
  ...loggingOptions,
} satisfies OptionSpecs;
