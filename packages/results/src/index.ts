export * from './experiment-report.ts';
export * from './sweep-result.ts';
export * from './live-sample.ts';
export * from './packet-capture.ts';
export * from './chat-result.ts';
