#!/usr/bin/env node
import { formatHelp, Logger, onShutdown, parseOptions } from '@lab/runtime';
import { LabError } from '@lab/protocol';
import { tcpServerOptions } from './config.ts';
import { FileStore } from './file-store.ts';
import { TcpFileServer } from './server.ts';

const usage = 'node services/tcp-server/src/main.ts [options]';
const description = 'The lab\'s TCP file-transfer server: verified uploads (SHA-256), atomic storage, downloads.';

async function main(): Promise<void> {
  const parsed = parseOptions(tcpServerOptions, process.argv.slice(2), process.env);
  if (parsed.help) {
    process.stdout.write(formatHelp(usage, description, tcpServerOptions));
    return;
  }
  const config = parsed.values;
  const log = new Logger({ service: 'tcp-server', level: config.logLevel });
  const store = new FileStore(config.dataDir);
  await store.init();
  const server = new TcpFileServer({
    store,
    log,
    limits: { maxHeaderBytes: config.maxHeaderBytes, maxFileBytes: config.maxFileBytes },
    idleTimeoutMs: config.idleTimeoutMs,
  });
  const address = await server.listen({ host: config.host, port: config.port, backlog: config.backlog });
  const where = address.family === 'IPv6' ? `[${address.address}]:${address.port}` : `${address.address}:${address.port}`;
  // The fixed readiness line that tests and health checks wait for.
  log.info('listening', { msg: `listening on tcp ${where}`, address: address.address, port: address.port, backlog: config.backlog, dataDir: config.dataDir });
  onShutdown(() => server.close(), (signal) => log.info('shutdown', { signal }));
}

main().catch((error: unknown) => {
  const code = error instanceof LabError ? error.code : 'UNEXPECTED';
  process.stderr.write(`tcp-server: ${code}: ${(error as Error).message}\n`);
  process.exit(error instanceof LabError && error.code === 'LAB_ERR_CONFIG' ? 2 : 1);
});
