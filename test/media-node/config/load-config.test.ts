import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, type Environment } from '../../../media-node/config/index.ts';

const SECRET = 'a-shared-secret-of-at-least-32-chars';

function load(env: Environment, files: Readonly<Record<string, string>> = {}): ReturnType<typeof loadConfig> {
  return loadConfig(env, {
    hostname: 'media-1.example',
    readFile: (path) => {
      const text = files[path];
      if (text === undefined) throw new Error(`ENOENT: no such file, open '${path}'`);
      return text;
    },
  });
}

function issuesOf(env: Environment, files: Readonly<Record<string, string>> = {}): { field: string; source: string; message: string }[] {
  try {
    load(env, files);
  } catch (error) {
    if (error instanceof ConfigError) return [...error.issues];
    throw error;
  }
  throw new Error('the configuration was accepted');
}

describe('media node configuration', () => {
  it('needs only the secret in local mode, and settles everything else on loopback', () => {
    const config = load({ SIPEDGE_MEDIA_SECRET: SECRET, SIPEDGE_MEDIA_LOCAL: 'true' });
    expect(config).toMatchObject({
      nodeId: 'media-1.example',
      region: 'local',
      local: true,
      control: { host: '127.0.0.1', port: 8090 },
      rtp: { portMin: 40000, portMax: 49999 },
      pbx: { bindAddress: '127.0.0.1', publicAddress: '127.0.0.1' },
      ice: { hostAddresses: ['127.0.0.1'], lite: false },
      maxSessions: 200,
      mediaTimeoutMs: 30_000,
      edge: { url: undefined, sessionEndedUrl: undefined, heartbeatIntervalMs: 10_000 },
    });
  });

  it('reads the JSON file, lets the environment override it, and derives the edge endpoints', () => {
    const file = JSON.stringify({
      region: 'eu-west',
      rtp: { portMin: 30000, portMax: 30999 },
      pbx: { bindAddress: '0.0.0.0', publicAddress: '203.0.113.7' },
      ice: { hostAddresses: ['203.0.113.7'], portMin: 31000, portMax: 31999 },
      edge: { url: 'https://edge.example/' },
      maxSessions: 80,
    });
    const config = load({ SIPEDGE_MEDIA_CONFIG: '/etc/sipedge/media.json', SIPEDGE_MEDIA_SECRET: SECRET, SIPEDGE_MEDIA_MAX_SESSIONS: '120' }, { '/etc/sipedge/media.json': file });
    expect(config.region).toBe('eu-west');
    expect(config.maxSessions).toBe(120);
    expect(config.pbx).toEqual({ bindAddress: '0.0.0.0', publicAddress: '203.0.113.7' });
    expect(config.ice).toEqual({ hostAddresses: ['203.0.113.7'], lite: false, portRange: [31000, 31999] });
    expect(config.edge).toEqual({ url: 'https://edge.example', sessionEndedUrl: 'https://edge.example/api/v1/media-nodes/session-ended', heartbeatIntervalMs: 10_000 });
  });

  it('names each bad field and the variable it came from, all at once', () => {
    const issues = issuesOf({
      SIPEDGE_MEDIA_SECRET: 'too-short',
      SIPEDGE_MEDIA_LOCAL: 'perhaps',
      SIPEDGE_MEDIA_CONTROL_PORT: '80a',
      SIPEDGE_MEDIA_RTP_PORT_MIN: '50000',
      SIPEDGE_MEDIA_RTP_PORT_MAX: '40000',
      SIPEDGE_MEDIA_EDGE_URL: 'ftp://edge.example',
      SIPEDGE_MEDIA_LOG_LEVEL: 'chatty',
      SIPEDGE_MEDIA_PBX_PUBLIC_ADDRESS: '192.0.2.10',
    });
    expect(issues.map((issue) => `${issue.field} ${issue.source}`).sort()).toEqual(
      [
        'control.port SIPEDGE_MEDIA_CONTROL_PORT',
        'edge.url SIPEDGE_MEDIA_EDGE_URL',
        'local SIPEDGE_MEDIA_LOCAL',
        'logLevel SIPEDGE_MEDIA_LOG_LEVEL',
        'rtp.portMax SIPEDGE_MEDIA_RTP_PORT_MAX',
        'secret SIPEDGE_MEDIA_SECRET',
      ].sort(),
    );
    expect(issues.find((issue) => issue.field === 'local')?.message).toMatch(/true or false.*perhaps/);
    expect(issues.find((issue) => issue.field === 'secret')?.message).toMatch(/32 characters/);
  });

  it('puts every problem in the error message, one line per field', () => {
    expect(() => load({})).toThrow(/secret \(not set: SIPEDGE_MEDIA_SECRET\)/);
  });

  it('names unknown and invalid settings in the file, and a file that cannot be read or parsed', () => {
    const env = { SIPEDGE_MEDIA_CONFIG: '/cfg.json', SIPEDGE_MEDIA_SECRET: SECRET, SIPEDGE_MEDIA_LOCAL: '1' };
    const issues = issuesOf(env, { '/cfg.json': JSON.stringify({ control: { port: 70000, colour: 'red' }, ice: { portMin: 31000 } }) });
    expect(issues.map((issue) => `${issue.field} ${issue.source}`).sort()).toEqual([
      'control.colour file /cfg.json',
      'control.port file /cfg.json',
      'ice.portMax not set: SIPEDGE_MEDIA_ICE_PORT_MAX or the file',
    ]);
    expect(issues.find((issue) => issue.field === 'control.colour')?.message).toBe('is not a known setting');
    expect(issuesOf(env, { '/cfg.json': '{ not json' })[0]).toMatchObject({ field: '(file)', source: 'SIPEDGE_MEDIA_CONFIG=/cfg.json', message: expect.stringMatching(/not valid JSON/) });
    expect(issuesOf(env)[0]).toMatchObject({ field: '(file)', message: expect.stringMatching(/cannot read the file: ENOENT/) });
  });

  it('outside local mode wants the address the PBX reaches, unless the bind address is it', () => {
    expect(issuesOf({ SIPEDGE_MEDIA_SECRET: SECRET }).map((issue) => issue.field)).toEqual(['pbx.publicAddress']);
    const bound = load({ SIPEDGE_MEDIA_SECRET: SECRET, SIPEDGE_MEDIA_PBX_BIND_ADDRESS: '10.0.0.5' });
    expect(bound.pbx).toEqual({ bindAddress: '10.0.0.5', publicAddress: '10.0.0.5' });
    expect(bound.ice.hostAddresses).toBe('all-interfaces');
    expect(issuesOf({ SIPEDGE_MEDIA_SECRET: SECRET, SIPEDGE_MEDIA_PBX_BIND_ADDRESS: 'localhost' })[0]).toMatchObject({ field: 'pbx.bindAddress', message: 'must be an IPv4 or IPv6 address' });
  });

  it('takes the SIP gateway port range and ping interval from the file or the environment, and refuses half a range', () => {
    expect(load({ SIPEDGE_MEDIA_SECRET: SECRET, SIPEDGE_MEDIA_LOCAL: 'true' }).sip).toEqual({ portRange: undefined, pingIntervalMs: 15_000 });
    const file = JSON.stringify({ local: true, sip: { portMin: 5060, portMax: 5069, pingIntervalMs: 30_000 } });
    const files = { '/cfg.json': file };
    expect(load({ SIPEDGE_MEDIA_CONFIG: '/cfg.json', SIPEDGE_MEDIA_SECRET: SECRET }, files).sip).toEqual({ portRange: [5060, 5069], pingIntervalMs: 30_000 });
    const overridden = load({ SIPEDGE_MEDIA_CONFIG: '/cfg.json', SIPEDGE_MEDIA_SECRET: SECRET, SIPEDGE_MEDIA_SIP_PORT_MAX: '5060', SIPEDGE_MEDIA_SIP_PING_MS: '5000' }, files);
    expect(overridden.sip).toEqual({ portRange: [5060, 5060], pingIntervalMs: 5000 });
    const issues = issuesOf({ SIPEDGE_MEDIA_SECRET: SECRET, SIPEDGE_MEDIA_LOCAL: 'true', SIPEDGE_MEDIA_SIP_PORT_MIN: '5070' });
    expect(issues).toEqual([expect.objectContaining({ field: 'sip.portMax', message: 'set both portMin and portMax, or neither' })]);
    const reversed = issuesOf({ SIPEDGE_MEDIA_SECRET: SECRET, SIPEDGE_MEDIA_LOCAL: 'true', SIPEDGE_MEDIA_SIP_PORT_MIN: '5070', SIPEDGE_MEDIA_SIP_PORT_MAX: '5060', SIPEDGE_MEDIA_SIP_PING_MS: '10' });
    expect(reversed.map((issue) => `${issue.field} ${issue.source}`).sort()).toEqual(['sip.pingIntervalMs SIPEDGE_MEDIA_SIP_PING_MS', 'sip.portMax SIPEDGE_MEDIA_SIP_PORT_MAX']);
  });

  it('reads lists and booleans from the environment', () => {
    const config = load({ SIPEDGE_MEDIA_SECRET: SECRET, SIPEDGE_MEDIA_PBX_PUBLIC_ADDRESS: '198.51.100.1', SIPEDGE_MEDIA_ICE_ADDRESSES: '198.51.100.1, 2001:db8::1', SIPEDGE_MEDIA_ICE_LITE: 'yes' });
    expect(config.ice).toEqual({ hostAddresses: ['198.51.100.1', '2001:db8::1'], lite: true });
  });
});
