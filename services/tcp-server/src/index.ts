// What the server package offers other code (tests that need a real server in-process). The program is main.ts.
export { FileStore } from './file-store.ts';
export { TcpFileServer } from './server.ts';
