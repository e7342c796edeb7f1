export * from './commands.ts';
export * from './models.ts';
export * from './profile.ts';
export * from './impairer.ts';
