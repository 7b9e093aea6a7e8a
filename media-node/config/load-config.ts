/**
 * A media node's configuration: the optional JSON file named by `SIPEDGE_MEDIA_CONFIG`, then the
 * environment variables over it, validated as a whole. Every problem is reported at once, each
 * naming the field and where its value came from (`rtp.portMin (SIPEDGE_MEDIA_RTP_PORT_MIN)`), so
 * an operator fixes a deployment in one go. Defaults that depend on other fields (local mode,
 * the public addresses) are settled here, so the service reads plain values.
 */
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import type { BrowserIceOptions } from '../browser-leg/index.ts';
import { CONFIG_FILE_VARIABLE, ENV_VARIABLES, convertEnvValue } from './env-variables.ts';
import { isWildcard, nodeConfigSchema, type LogLevel, type ParsedNodeConfig } from './node-config-schema.ts';

export interface ConfigIssue {
  /** The field, dotted: `rtp.portMin`. */
  readonly field: string;
  /** Where the value came from: an environment variable, the file, or the defaults. */
  readonly source: string;
  readonly message: string;
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  readonly issues: readonly ConfigIssue[];

  constructor(issues: readonly ConfigIssue[]) {
    super(`invalid media node configuration:\n${issues.map((issue) => `  - ${issue.field} (${issue.source}): ${issue.message}`).join('\n')}`);
    this.issues = issues;
  }
}

/** The configuration as the service uses it: every default settled. */
export interface NodeConfig {
  readonly nodeId: string;
  readonly region: string;
  readonly local: boolean;
  readonly control: {
    readonly host: string;
    readonly port: number;
    readonly publicUrl: string | undefined;
    readonly metricsToken: string | undefined;
    /** The PEM text of the certificate chain and key, read from the configured files: HTTPS. */
    readonly tls: { readonly cert: string; readonly key: string } | undefined;
  };
  readonly rtp: { readonly portMin: number; readonly portMax: number };
  readonly pbx: { readonly bindAddress: string; readonly publicAddress: string };
  readonly ice: BrowserIceOptions;
  /** The SIP gateway: its links' UDP port range (undefined: any free port) and WebSocket ping interval. */
  readonly sip: { readonly portRange: readonly [number, number] | undefined; readonly pingIntervalMs: number };
  readonly maxSessions: number;
  readonly secret: string;
  readonly edge: { readonly url: string | undefined; readonly sessionEndedUrl: string | undefined; readonly heartbeatIntervalMs: number };
  readonly mediaTimeoutMs: number;
  readonly qualitySampleIntervalMs: number;
  readonly logLevel: LogLevel;
}

export type Environment = Readonly<Record<string, string | undefined>>;

export interface LoadConfigOptions {
  /** Reads the JSON file; default `fs.readFileSync` as UTF-8. */
  readonly readFile?: (path: string) => string;
  /** Default `os.hostname()`. */
  readonly hostname?: string;
}

export const HEARTBEAT_PATH = '/api/v1/media-nodes/heartbeat';
export const SESSION_ENDED_PATH = '/api/v1/media-nodes/session-ended';

/** Reads, merges and validates; throws `ConfigError`. */
export function loadConfig(env: Environment, options: LoadConfigOptions = {}): NodeConfig {
  const issues: ConfigIssue[] = [];
  const sources = new Map<string, string>();
  const file = env[CONFIG_FILE_VARIABLE];
  let input: Record<string, unknown> = {};
  if (file !== undefined && file !== '') {
    const read = readConfigFile(file, options.readFile ?? ((path) => readFileSync(path, 'utf8')));
    if (read.ok) input = read.value;
    else issues.push({ field: '(file)', source: `${CONFIG_FILE_VARIABLE}=${file}`, message: read.message });
  }
  for (const variable of ENV_VARIABLES) {
    const text = env[variable.name];
    if (text === undefined || text === '') continue;
    const converted = convertEnvValue(variable.kind, text);
    const field = variable.path.join('.');
    if (!converted.ok) {
      issues.push({ field, source: variable.name, message: converted.message });
      continue;
    }
    setPath(input, variable.path, converted.value);
    sources.set(field, variable.name);
  }
  const parsed = nodeConfigSchema.safeParse(input);
  if (!parsed.success) {
    const reported = new Set(issues.map((issue) => issue.field));
    for (const issue of parsed.error.issues) {
      const base = issue.path.map(String);
      const fields = issue.code === 'unrecognized_keys' ? issue.keys.map((key) => [...base, key].join('.')) : [base.join('.') || '(root)'];
      const message = issue.code === 'unrecognized_keys' ? 'is not a known setting' : issue.message;
      // A variable that did not convert is already reported, and was left unset.
      for (const field of fields) if (!reported.has(field)) issues.push({ field, source: sourceOf(field, sources, input, file), message });
    }
  }
  if (issues.length > 0 || !parsed.success) throw new ConfigError(issues);
  const tls = readTlsFiles(parsed.data.control.tls, options.readFile ?? ((path) => readFileSync(path, 'utf8')), sources, file, issues);
  if (issues.length > 0) throw new ConfigError(issues);
  return resolveConfig(parsed.data, options.hostname ?? hostname(), tls);
}

/** The certificate and key files' PEM text; an unreadable or non-PEM file is an issue naming its field. */
function readTlsFiles(
  tls: { readonly cert: string; readonly key: string } | undefined,
  readFile: (path: string) => string,
  sources: ReadonlyMap<string, string>,
  file: string | undefined,
  issues: ConfigIssue[],
): NodeConfig['control']['tls'] {
  if (tls === undefined) return undefined;
  const read = (name: 'cert' | 'key'): string => {
    const field = `control.tls.${name}`;
    const source = sources.get(field) ?? `file ${file ?? ''}`;
    try {
      const text = readFile(tls[name]);
      if (!text.includes('-----BEGIN ')) issues.push({ field, source, message: `${tls[name]} is not a PEM file` });
      return text;
    } catch (error) {
      issues.push({ field, source, message: `cannot read ${tls[name]}: ${error instanceof Error ? error.message : String(error)}` });
      return '';
    }
  };
  return { cert: read('cert'), key: read('key') };
}

function resolveConfig(config: ParsedNodeConfig, host: string, tls: NodeConfig['control']['tls']): NodeConfig {
  const bindAddress = config.pbx.bindAddress ?? (config.local ? '127.0.0.1' : '0.0.0.0');
  // The schema made sure a public address exists where the bind address cannot stand in for it.
  const publicAddress = config.pbx.publicAddress ?? (isWildcard(bindAddress) ? '127.0.0.1' : bindAddress);
  const ice: BrowserIceOptions = {
    hostAddresses: config.ice.hostAddresses ?? (config.local ? ['127.0.0.1'] : 'all-interfaces'),
    lite: config.ice.lite,
    ...(config.ice.portMin === undefined || config.ice.portMax === undefined ? {} : { portRange: [config.ice.portMin, config.ice.portMax] as const }),
  };
  const edgeUrl = config.edge.url?.replace(/\/+$/, '');
  return {
    nodeId: config.nodeId ?? host.replace(/[^A-Za-z0-9._-]/g, '-').slice(0, 64),
    region: config.region,
    local: config.local,
    control: { host: config.control.host, port: config.control.port, publicUrl: config.control.publicUrl, metricsToken: config.control.metricsToken, tls },
    rtp: { portMin: config.rtp.portMin, portMax: config.rtp.portMax },
    pbx: { bindAddress, publicAddress },
    ice,
    sip: {
      portRange: config.sip.portMin === undefined || config.sip.portMax === undefined ? undefined : [config.sip.portMin, config.sip.portMax],
      pingIntervalMs: config.sip.pingIntervalMs,
    },
    maxSessions: config.maxSessions,
    secret: config.secret,
    edge: {
      url: edgeUrl,
      sessionEndedUrl: config.edge.sessionEndedUrl ?? (edgeUrl === undefined ? undefined : `${edgeUrl}${SESSION_ENDED_PATH}`),
      heartbeatIntervalMs: config.edge.heartbeatIntervalMs,
    },
    mediaTimeoutMs: config.mediaTimeoutMs,
    qualitySampleIntervalMs: config.qualitySampleIntervalMs,
    logLevel: config.logLevel,
  };
}

function readConfigFile(path: string, readFile: (path: string) => string): { ok: true; value: Record<string, unknown> } | { ok: false; message: string } {
  let text: string;
  try {
    text = readFile(path);
  } catch (error) {
    return { ok: false, message: `cannot read the file: ${error instanceof Error ? error.message : String(error)}` };
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return { ok: false, message: `not valid JSON: ${error instanceof Error ? error.message : String(error)}` };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return { ok: false, message: 'must hold one JSON object' };
  return { ok: true, value: value as Record<string, unknown> };
}

function setPath(target: Record<string, unknown>, path: readonly string[], value: unknown): void {
  let node = target;
  for (const key of path.slice(0, -1)) {
    const next = node[key];
    if (typeof next === 'object' && next !== null && !Array.isArray(next)) node = next as Record<string, unknown>;
    else {
      const created: Record<string, unknown> = {};
      node[key] = created;
      node = created;
    }
  }
  node[path[path.length - 1] as string] = value;
}

/** Where `field`'s value came from: its variable, the file, or nowhere (then which variable would set it). */
function sourceOf(field: string, sources: ReadonlyMap<string, string>, input: Readonly<Record<string, unknown>>, file: string | undefined): string {
  const exact = sources.get(field);
  if (exact !== undefined) return exact;
  // A rule over a whole object names the object; show the variables that fed it.
  const within = [...sources].filter(([key]) => key.startsWith(`${field}.`)).map(([, name]) => name);
  if (within.length > 0) return within.join(', ');
  if (file !== undefined && getPath(input, field.split('.')) !== undefined) return `file ${file}`;
  const variable = ENV_VARIABLES.find((candidate) => candidate.path.join('.') === field);
  return variable === undefined ? 'not set' : `not set: ${variable.name}${file === undefined ? '' : ' or the file'}`;
}

function getPath(source: Readonly<Record<string, unknown>>, path: readonly string[]): unknown {
  let node: unknown = source;
  for (const key of path) {
    if (typeof node !== 'object' || node === null) return undefined;
    node = (node as Record<string, unknown>)[key];
  }
  return node;
}
