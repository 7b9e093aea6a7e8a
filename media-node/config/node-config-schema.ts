/**
 * What a media node is configured with, as one zod schema: the shape of the optional JSON file,
 * and of what the environment variables (`env-variables.ts`) fill in over it. Objects are strict,
 * so a misspelt key in the file is an error naming it rather than a setting silently ignored.
 */
import { isIP } from 'node:net';
import { z } from 'zod';

const ipAddress = z.string().refine((value) => isIP(value) !== 0, { message: 'must be an IPv4 or IPv6 address' });
const port = z.number().int().min(0).max(65535);
const mediaPort = z.number().int().min(1024).max(65535);
const httpUrl = z.url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' });

export const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export const nodeConfigSchema = z
  .strictObject({
    /** Names this node to the edge; default the host name. */
    nodeId: z
      .string()
      .regex(/^[A-Za-z0-9._-]{1,64}$/, { message: 'must be 1-64 letters, digits, dots, dashes or underscores' })
      .optional(),
    /** The edge picks a node in the caller's region. */
    region: z.string().min(1).max(64).default('local'),
    /**
     * Local mode: every socket on 127.0.0.1 and the browser offered a 127.0.0.1 candidate, for
     * development and tests (FIELD-NOTES "Browsers in tests"); werift skips loopback otherwise.
     */
    local: z.boolean().default(false),
    control: z
      .strictObject({
        host: ipAddress.default('127.0.0.1'),
        /** 0 picks a free port (tests). */
        port: port.default(8090),
        /** How the edge reaches the control API, sent in heartbeats; default `http://host:port`. */
        publicUrl: httpUrl.optional(),
        /** When set, `/metrics` wants `Authorization: Bearer <token>`; otherwise it is open like `/health`. */
        metricsToken: z.string().min(16).optional(),
        /** HTTPS (and WSS for the SIP gateway): PEM files of the certificate chain and its private key. */
        tls: z.strictObject({ cert: z.string().min(1), key: z.string().min(1) }).optional(),
      })
      .prefault({}),
    rtp: z
      .strictObject({
        /** PBX-leg RTP/RTCP pairs come from this inclusive range. */
        portMin: mediaPort.default(40000),
        portMax: mediaPort.default(49999),
      })
      .prefault({})
      .refine((range) => range.portMax > range.portMin, { message: 'portMax must be above portMin', path: ['portMax'] }),
    pbx: z
      .strictObject({
        /** Where the PBX-leg sockets bind; default 0.0.0.0, or 127.0.0.1 in local mode. */
        bindAddress: ipAddress.optional(),
        /** The address written in the PBX's SDP (`c=`): the node as the PBX reaches it. */
        publicAddress: ipAddress.optional(),
      })
      .prefault({}),
    ice: z
      .strictObject({
        /** The addresses the browser leg offers host candidates on; default every interface, or 127.0.0.1 in local mode. */
        hostAddresses: z.array(ipAddress).min(1).optional(),
        portMin: mediaPort.optional(),
        portMax: mediaPort.optional(),
        /** RFC 8445 §2.5 ICE-lite: only for a node on a public address. */
        lite: z.boolean().default(false),
      })
      .prefault({})
      .refine((ice) => (ice.portMin === undefined) === (ice.portMax === undefined), { message: 'set both portMin and portMax, or neither', path: ['portMax'] })
      .refine((ice) => ice.portMin === undefined || ice.portMax === undefined || ice.portMax > ice.portMin, { message: 'portMax must be above portMin', path: ['portMax'] }),
    sip: z
      .strictObject({
        /** The SIP gateway's UDP sockets, one per PbxLink, come from this inclusive range; default any free port. */
        portMin: mediaPort.optional(),
        portMax: mediaPort.optional(),
        /** How often the gateway pings each link's WebSocket; three pings without a pong close it. */
        pingIntervalMs: z.number().int().min(100).max(600_000).default(15_000),
      })
      .prefault({})
      .refine((sip) => (sip.portMin === undefined) === (sip.portMax === undefined), { message: 'set both portMin and portMax, or neither', path: ['portMax'] })
      .refine((sip) => sip.portMin === undefined || sip.portMax === undefined || sip.portMax >= sip.portMin, { message: 'portMax must not be below portMin', path: ['portMax'] }),
    /** Most sessions at once; past it, creating one answers 503 and the edge picks another node. */
    maxSessions: z.number().int().min(1).max(100_000).default(200),
    /** The shared secret requests are signed with, both ways (at least 32 characters). */
    secret: z.string().min(32, { message: 'must be at least 32 characters' }),
    edge: z
      .strictObject({
        /** The edge's base URL; without it there are no heartbeats and session ends are only logged. */
        url: httpUrl.optional(),
        /** Where a session's end is reported; default `<url>/api/v1/media-nodes/session-ended`. */
        sessionEndedUrl: httpUrl.optional(),
        heartbeatIntervalMs: z.number().int().min(1000).max(3_600_000).default(10_000),
      })
      .prefault({}),
    /** No RTP from a leg that should send for this long ends the call. */
    mediaTimeoutMs: z.number().int().min(1000).max(3_600_000).default(30_000),
    /** How often each direction of a call gets a quality sample (the newest 720 are kept). */
    qualitySampleIntervalMs: z.number().int().min(100).max(60_000).default(5_000),
    logLevel: z.enum(LOG_LEVELS).default('info'),
  })
  .superRefine((config, context) => {
    const bind = config.pbx.bindAddress;
    const wildcard = bind === undefined || isWildcard(bind);
    if (wildcard && config.pbx.publicAddress === undefined && !config.local) {
      context.addIssue({
        code: 'custom',
        path: ['pbx', 'publicAddress'],
        message: 'is required when the PBX leg binds every interface: the PBX SDP needs an address it can reach',
      });
    }
  });

export type NodeConfigInput = z.input<typeof nodeConfigSchema>;
export type ParsedNodeConfig = z.output<typeof nodeConfigSchema>;

export function isWildcard(address: string): boolean {
  return address === '0.0.0.0' || address === '::';
}
