/**
 * The media node's structured log: one JSON object per line (`time`, `level`, `msg`, then the
 * fields), written wherever the host says (stdout for the service, journald picks it up under
 * systemd). Lines below the configured level are dropped before they are built.
 */
import type { LogLevel } from '../config/index.ts';
import type { LogFields, Logger } from '../logger.ts';

const RANK: Readonly<Record<LogLevel, number>> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface JsonLoggerOptions {
  /** Takes one line, without its line feed. */
  readonly write: (line: string) => void;
  /** Default 'info'. */
  readonly level?: LogLevel;
  /** Added to every line (the node id, ...). */
  readonly base?: LogFields;
}

export function createJsonLogger(options: JsonLoggerOptions): Logger {
  const threshold = RANK[options.level ?? 'info'];
  const base = options.base ?? {};
  const log = (level: LogLevel, msg: string, fields: LogFields = {}): void => {
    if (RANK[level] < threshold) return;
    const record = { time: new Date().toISOString(), level, msg, ...base, ...fields };
    let line: string;
    try {
      line = JSON.stringify(record, (_key, value: unknown) => (typeof value === 'bigint' ? value.toString() : value instanceof Error ? value.message : value));
    } catch (error) {
      // A field that cannot be written (a cycle) must not lose the line.
      line = JSON.stringify({ time: record.time, level, msg, logError: String(error) });
    }
    options.write(line);
  };
  return {
    debug: (msg, fields) => log('debug', msg, fields),
    info: (msg, fields) => log('info', msg, fields),
    warn: (msg, fields) => log('warn', msg, fields),
    error: (msg, fields) => log('error', msg, fields),
  };
}
