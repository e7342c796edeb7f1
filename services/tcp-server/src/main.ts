#!/usr/bin/env node
import { formatAddress, Logger, onShutdown, parseCommandLine, runMain } from '@lab/runtime';
import { tcpServerOptions } from './config.ts';
import { FileStore } from './file-store.ts';
import { TcpFileServer } from './server.ts';

const usage = 'node services/tcp-server/src/main.ts [options]';
const description = 'The lab\'s TCP file-transfer server: verified uploads (SHA-256), atomic storage, downloads.';

async function main(): Promise<void> {
  const cli = parseCommandLine(tcpServerOptions, { usage, description });
  if (!cli) return;
  const config = cli.values;
  const log = new Logger({ service: 'tcp-server', level: config.logLevel, format: config.logFormat });
  const store = new FileStore(config.dataDir);
  await store.init();
  const server = new TcpFileServer({
    store,
    log,
    limits: { maxHeaderBytes: config.maxHeaderBytes, maxFileBytes: config.maxFileBytes },
    idleTimeoutMs: config.idleTimeoutMs,
  });
  const address = await server.listen({ host: config.host, port: config.port, backlog: config.backlog });
  // The fixed readiness line that tests and health checks wait for.
  log.info('listening', { msg: `listening on tcp ${formatAddress(address)}`, address: address.address, port: address.port, backlog: config.backlog, dataDir: config.dataDir });
  onShutdown(() => server.close(), (signal) => log.info('shutdown', { signal }));
}

runMain('tcp-server', main);
