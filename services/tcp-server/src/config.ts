import { z } from 'zod';
import { DEFAULT_MAX_HEADER_BYTES, endpointListSchema } from '@lab/protocol';
import { loggingOptions, nonNegativeIntSchema, positiveIntSchema, type OptionSpecs } from '@lab/runtime';
import { diskReserveSchema } from './disk-reserve.ts';

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
    description: 'storage quota: stored files plus partial uploads (kept, or being written), as written so far, in bytes',
    env: 'TCP_SERVER_QUOTA_BYTES',
    default: String(16 * 1024 ** 3),
    schema: nonNegativeIntSchema,
  },
  diskReserveBytes: {
    description: 'free space on the data directory\'s file system that uploads never take, in bytes; auto: the smaller of 64 MiB and 5% of that file system',
    env: 'TCP_SERVER_DISK_RESERVE_BYTES',
    default: 'auto',
    schema: diskReserveSchema,
  },
  partialTtlMs: { description: 'remove a kept partial upload not written for this many ms', env: 'TCP_SERVER_PARTIAL_TTL_MS', default: String(24 * 3600_000), schema: positiveIntSchema },
  maxPartials: { description: 'most partial uploads kept, in total (the oldest make room)', env: 'TCP_SERVER_MAX_PARTIALS', default: '1000', schema: nonNegativeIntSchema },
  maxPartialBytes: { description: 'most bytes of partial uploads kept, in total', env: 'TCP_SERVER_MAX_PARTIAL_BYTES', default: String(8 * 1024 ** 3), schema: nonNegativeIntSchema },
  maxPartialsPerAddress: { description: 'most partial uploads kept for one client address', env: 'TCP_SERVER_MAX_PARTIALS_PER_ADDRESS', default: '100', schema: nonNegativeIntSchema },
  maxPartialBytesPerAddress: {
    description: 'most bytes of partial uploads kept for one client address',
    env: 'TCP_SERVER_MAX_PARTIAL_BYTES_PER_ADDRESS',
    default: String(4 * 1024 ** 3),
    schema: nonNegativeIntSchema,
  },
  maxConnections: { description: 'most connections open at once', env: 'TCP_SERVER_MAX_CONNECTIONS', default: '256', schema: positiveIntSchema },
  maxConnectionsPerAddress: {
    description: 'most connections open at once from one client address',
    env: 'TCP_SERVER_MAX_CONNECTIONS_PER_ADDRESS',
    default: '64',
    schema: positiveIntSchema,
  },
  maxHeaderBytes: { description: 'largest frame header accepted, in bytes', env: 'TCP_SERVER_MAX_HEADER_BYTES', default: String(DEFAULT_MAX_HEADER_BYTES), schema: positiveIntSchema },
  headerTimeoutMs: { description: 'a begun frame header must complete within this many ms', env: 'TCP_SERVER_HEADER_TIMEOUT_MS', default: '10000', schema: positiveIntSchema },
  idleTimeoutMs: { description: 'close a connection silent for this many ms', env: 'TCP_SERVER_IDLE_TIMEOUT_MS', default: '300000', schema: positiveIntSchema },
  graceMs: { description: 'on SIGTERM, let transfers in progress finish for this many ms', env: 'TCP_SERVER_GRACE_MS', default: '5000', schema: nonNegativeIntSchema },
  ...loggingOptions,
} satisfies OptionSpecs;
