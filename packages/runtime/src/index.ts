export * from './logger.ts';
export * from './options.ts';
export * from './run-main.ts';
export * from './shutdown.ts';
export * from './lab-user.ts';
export * from './run-command.ts';
