export * from './errors.ts';
export * from './file-name.ts';
export * from './schema-issues.ts';
export * from './tcp-messages.ts';
export * from './tcp-frame.ts';
export * from './udp-datagram.ts';
export * from './endpoint.ts';
export * from './udp-control.ts';
