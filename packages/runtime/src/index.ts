export * from './logger.ts';
export * from './options.ts';
export * from './shutdown.ts';
export * from './frame-reader.ts';
export * from './run-main.ts';
export * from './write-stream.ts';
export * from './udp-host-counters.ts';
export * from './tcp-host-counters.ts';
