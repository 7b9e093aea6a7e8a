/**
 * The media node's entry point: `node media-node/main.ts` (Node 22 runs the TypeScript directly).
 *
 * Configuration comes from the environment and the optional JSON file `SIPEDGE_MEDIA_CONFIG`
 * (see `config/env-variables.ts`); a bad one stops the node at once with every offending field
 * named (exit code 2). Logs are JSON lines on stdout. SIGTERM or SIGINT shuts down gracefully:
 * every session is ended and reported to the edge; a second signal, or a shutdown that takes more
 * than 20 s, exits at once.
 *
 * An exception or rejection that escapes everything else is logged and counted in `/metrics`, and
 * the node carries on: its sessions are independent, and exiting would drop every call on the node
 * to save none.
 */
import { ConfigError, loadConfig, type NodeConfig } from './config/index.ts';
import { MediaNodeService, createJsonLogger } from './service/index.ts';

const SHUTDOWN_DEADLINE_MS = 20_000;

let config: NodeConfig;
try {
  config = loadConfig(process.env);
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  console.error(error.message);
  process.exit(2);
}

const logger = createJsonLogger({ write: (line) => process.stdout.write(`${line}\n`), level: config.logLevel, base: { node: config.nodeId } });

let uncaught = 0;
process.on('uncaughtException', (error) => {
  uncaught++;
  logger.error('uncaught exception', { error: error.message, stack: error.stack });
});
process.on('unhandledRejection', (reason) => {
  uncaught++;
  logger.error('unhandled rejection', { error: String(reason), stack: reason instanceof Error ? reason.stack : undefined });
});

let service: MediaNodeService;
try {
  service = await MediaNodeService.start(config, { logger, uncaughtErrors: () => uncaught });
} catch (error) {
  logger.error('media node failed to start', { error: String(error) });
  process.exit(1);
}

let signals = 0;
function shutDown(signal: NodeJS.Signals): void {
  signals++;
  if (signals > 1) {
    logger.warn('second signal: exiting without waiting', { signal });
    process.exit(1);
  }
  logger.info('shutting down', { signal });
  setTimeout(() => {
    logger.error('shutdown took too long: exiting', { deadlineMs: SHUTDOWN_DEADLINE_MS });
    process.exit(1);
  }, SHUTDOWN_DEADLINE_MS).unref();
  service.stop().then(
    () => process.exit(0),
    (error: unknown) => {
      logger.error('shutdown failed', { error: String(error) });
      process.exit(1);
    },
  );
}
process.on('SIGTERM', shutDown);
process.on('SIGINT', shutDown);
