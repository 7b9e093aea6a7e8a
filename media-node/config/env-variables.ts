/**
 * The environment variables a media node reads, each mapped to one field of the configuration
 * (`node-config-schema.ts`). A variable that is set wins over the JSON file. Values are converted
 * from text here, so a bad number or boolean is reported against the variable's own name.
 */

export type EnvKind = 'string' | 'integer' | 'boolean' | 'list';

export interface EnvVariable {
  readonly name: string;
  /** The configuration field it sets, e.g. `['rtp', 'portMin']`. */
  readonly path: readonly string[];
  readonly kind: EnvKind;
}

/** Names the JSON configuration file. */
export const CONFIG_FILE_VARIABLE = 'SIPEDGE_MEDIA_CONFIG';

export const ENV_VARIABLES: readonly EnvVariable[] = [
  { name: 'SIPEDGE_MEDIA_NODE_ID', path: ['nodeId'], kind: 'string' },
  { name: 'SIPEDGE_MEDIA_REGION', path: ['region'], kind: 'string' },
  { name: 'SIPEDGE_MEDIA_LOCAL', path: ['local'], kind: 'boolean' },
  { name: 'SIPEDGE_MEDIA_CONTROL_HOST', path: ['control', 'host'], kind: 'string' },
  { name: 'SIPEDGE_MEDIA_CONTROL_PORT', path: ['control', 'port'], kind: 'integer' },
  { name: 'SIPEDGE_MEDIA_CONTROL_PUBLIC_URL', path: ['control', 'publicUrl'], kind: 'string' },
  { name: 'SIPEDGE_MEDIA_METRICS_TOKEN', path: ['control', 'metricsToken'], kind: 'string' },
  { name: 'SIPEDGE_MEDIA_CONTROL_TLS_CERT', path: ['control', 'tls', 'cert'], kind: 'string' },
  { name: 'SIPEDGE_MEDIA_CONTROL_TLS_KEY', path: ['control', 'tls', 'key'], kind: 'string' },
  { name: 'SIPEDGE_MEDIA_RTP_PORT_MIN', path: ['rtp', 'portMin'], kind: 'integer' },
  { name: 'SIPEDGE_MEDIA_RTP_PORT_MAX', path: ['rtp', 'portMax'], kind: 'integer' },
  { name: 'SIPEDGE_MEDIA_PBX_BIND_ADDRESS', path: ['pbx', 'bindAddress'], kind: 'string' },
  { name: 'SIPEDGE_MEDIA_PBX_PUBLIC_ADDRESS', path: ['pbx', 'publicAddress'], kind: 'string' },
  { name: 'SIPEDGE_MEDIA_ICE_ADDRESSES', path: ['ice', 'hostAddresses'], kind: 'list' },
  { name: 'SIPEDGE_MEDIA_ICE_PORT_MIN', path: ['ice', 'portMin'], kind: 'integer' },
  { name: 'SIPEDGE_MEDIA_ICE_PORT_MAX', path: ['ice', 'portMax'], kind: 'integer' },
  { name: 'SIPEDGE_MEDIA_ICE_LITE', path: ['ice', 'lite'], kind: 'boolean' },
  { name: 'SIPEDGE_MEDIA_SIP_PORT_MIN', path: ['sip', 'portMin'], kind: 'integer' },
  { name: 'SIPEDGE_MEDIA_SIP_PORT_MAX', path: ['sip', 'portMax'], kind: 'integer' },
  { name: 'SIPEDGE_MEDIA_SIP_PING_MS', path: ['sip', 'pingIntervalMs'], kind: 'integer' },
  { name: 'SIPEDGE_MEDIA_MAX_SESSIONS', path: ['maxSessions'], kind: 'integer' },
  { name: 'SIPEDGE_MEDIA_SECRET', path: ['secret'], kind: 'string' },
  { name: 'SIPEDGE_MEDIA_EDGE_URL', path: ['edge', 'url'], kind: 'string' },
  { name: 'SIPEDGE_MEDIA_SESSION_ENDED_URL', path: ['edge', 'sessionEndedUrl'], kind: 'string' },
  { name: 'SIPEDGE_MEDIA_HEARTBEAT_MS', path: ['edge', 'heartbeatIntervalMs'], kind: 'integer' },
  { name: 'SIPEDGE_MEDIA_TIMEOUT_MS', path: ['mediaTimeoutMs'], kind: 'integer' },
  { name: 'SIPEDGE_MEDIA_SAMPLE_INTERVAL_MS', path: ['qualitySampleIntervalMs'], kind: 'integer' },
  { name: 'SIPEDGE_MEDIA_LOG_LEVEL', path: ['logLevel'], kind: 'string' },
];

const TRUE = new Set(['1', 'true', 'yes', 'on']);
const FALSE = new Set(['0', 'false', 'no', 'off']);

/** The variable's text as a configuration value, or why it is not one. */
export function convertEnvValue(kind: EnvKind, text: string): { ok: true; value: unknown } | { ok: false; message: string } {
  const trimmed = text.trim();
  switch (kind) {
    case 'string':
      return { ok: true, value: trimmed };
    case 'integer':
      return /^-?\d+$/.test(trimmed) ? { ok: true, value: Number(trimmed) } : { ok: false, message: `expected an integer, got '${text}'` };
    case 'boolean': {
      const lower = trimmed.toLowerCase();
      if (TRUE.has(lower)) return { ok: true, value: true };
      if (FALSE.has(lower)) return { ok: true, value: false };
      return { ok: false, message: `expected true or false (1/0, yes/no), got '${text}'` };
    }
    case 'list':
      return { ok: true, value: trimmed.split(',').map((item) => item.trim()).filter((item) => item !== '') };
  }
}
