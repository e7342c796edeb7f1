#!/usr/bin/env node
import { formatEndpoint } from '@lab/protocol';
import { createLogger, onShutdown, parseCommandLine, runMain } from '@lab/runtime';
import { tcpServerOptions } from './config.ts';
import { FileStore } from './file-store.ts';
import { TcpFileServer } from './server.ts';

const usage = 'node services/tcp-server/src/main.ts [options]';
const description = [
  'The lab\'s TCP file-transfer server: verified (SHA-256), atomic and resumable uploads, downloads,',
  'list/stat/delete, and TCP chat rooms. Protocol: docs/tcp-protocol.md. Errors: docs/errors.md.',
].join('\n');

async function main(): Promise<void> {
  const cli = parseCommandLine(tcpServerOptions, { usage, description });
  if (!cli) return;
  const config = cli.values;
  const log = createLogger('tcp-server', config);
  const store = new FileStore(config.dataDir, {
    quotaBytes: config.quotaBytes,
    diskReserveBytes: config.diskReserveBytes,
    partials: {
      ttlMs: config.partialTtlMs,
      maxCount: config.maxPartials,
      maxBytes: config.maxPartialBytes,
      maxCountPerAddress: config.maxPartialsPerAddress,
      maxBytesPerAddress: config.maxPartialBytesPerAddress,
    },
  });
  const found = await store.init();
  if (found.removed > 0) log.info('partials-removed', { msg: `removed ${found.removed} of ${found.partials} partial uploads found (expired, or over the caps)`, ...found });
  const server = new TcpFileServer({
    store,
    log,
    limits: { maxHeaderBytes: config.maxHeaderBytes, maxFileBytes: config.maxFileBytes, headerTimeoutMs: config.headerTimeoutMs },
    idleTimeoutMs: config.idleTimeoutMs,
    maxConnections: config.maxConnections,
    maxConnectionsPerAddress: config.maxConnectionsPerAddress,
  });
  for (const endpoint of config.listen) {
    const bound = await server.listen(endpoint, config.backlog);
    const where = formatEndpoint(bound.endpoint);
    // The fixed readiness line (one per listener) that tests and health checks wait for.
    const msg = bound.endpoint.kind === 'unix' ? `listening on unix ${bound.endpoint.path}` : `listening on tcp ${where}`;
    log.info('listening', { msg, endpoint: where, backlog: bound.backlog, dataDir: config.dataDir, diskReserveBytes: store.diskReserveBytes });
  }
  onShutdown(() => server.close(config.graceMs), (signal) => log.info('shutdown', { signal, graceMs: config.graceMs, open: server.connections }));
}

runMain('tcp-server', main);
