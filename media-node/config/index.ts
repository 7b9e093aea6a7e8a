export type { EnvKind, EnvVariable } from './env-variables.ts';
export { CONFIG_FILE_VARIABLE, ENV_VARIABLES, convertEnvValue } from './env-variables.ts';
export type { ConfigIssue, Environment, LoadConfigOptions, NodeConfig } from './load-config.ts';
export { ConfigError, HEARTBEAT_PATH, SESSION_ENDED_PATH, loadConfig } from './load-config.ts';
export type { LogLevel, NodeConfigInput, ParsedNodeConfig } from './node-config-schema.ts';
export { LOG_LEVELS, nodeConfigSchema } from './node-config-schema.ts';
