export * from './commands.ts';
export * from './models.ts';
export * from './profile.ts';
