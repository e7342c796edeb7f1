export * from './proc-net-snmp.ts';
export * from './tcp-host-counters.ts';
export * from './udp-host-counters.ts';
export * from './udp-socket-drops.ts';
export * from './interface-counters.ts';
