export type { EdgeClientOptions, EdgeResponse, RetryOptions } from './edge-client.ts';
export { EdgeClient } from './edge-client.ts';
export type { HeartbeatBody, HeartbeatCounters, HeartbeatOptions } from './heartbeat.ts';
export { Heartbeat } from './heartbeat.ts';
export type { SessionEndReporterCounters, SessionEndReporterOptions } from './session-end-reporter.ts';
export { SessionEndReporter } from './session-end-reporter.ts';
