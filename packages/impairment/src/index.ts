export * from './commands.ts';
export * from './intervals.ts';
export * from './profile.ts';
export * from './impairer.ts';
export * from './netem-model.ts';
export * from './netem-readback.ts';
export * from './path-model.ts';
