export * from './file-chunks.ts';
export * from './frame-reader.ts';
export * from './socket-errors.ts';
export * from './write-stream.ts';
