export type { JsonLoggerOptions } from './json-logger.ts';
export { createJsonLogger } from './json-logger.ts';
export type { MediaNodeServiceOptions, ServiceState } from './media-node-service.ts';
export { MediaNodeService } from './media-node-service.ts';
