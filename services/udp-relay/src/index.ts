// What the relay package offers other code (tests that need a real relay in-process). The program is main.ts.
export { UdpRelay } from './relay.ts';
