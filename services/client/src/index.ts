// What the client package offers other code (the lab runner, benchmarks, tests): its TCP client, its
// UDP room member and stream, and the experiment's options. The command line is main.ts.
export { experimentOptions } from './config.ts';
export { TcpFileClient } from './tcp-client.ts';
export { UdpMember } from './udp-member.ts';
export { sendStream, StreamReceiver } from './udp-stream.ts';
