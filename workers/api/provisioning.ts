/**
 * Provisioning: what a phone needs to register, ready to paste into SIP.js (`UserAgentOptions`)
 * or JsSIP (`UA` configuration and call options), and a one-time link that hands it to a new
 * device, with a QR code of that link.
 *
 *   POST   /users/:username/provisioning      {"password"?, "link"?, "linkTtlSeconds"?}  201
 *   DELETE /users/:username/provisioning/:id  204: the link no longer opens
 *   GET    /provisioning-settings             the ICE servers given to the domain's phones
 *   PUT    /provisioning-settings             {"iceServers": [RTCIceServer...]}
 *   GET    /provision/[<domain>.]<token>      (outside /api/v1: the token is the credential) the
 *                                             configuration, once; then 410
 *
 * Passwords are stored only as HA1 (RFC 7616 §3.4.2), so the edge cannot put one in a
 * configuration by itself. When the operator sends `password`, it goes into the one-time link's
 * configuration only: never into the POST's answer, never logged, and at rest sealed with a key
 * derived from the link's token (`provisioning-seal.ts`), which the edge does not keep; the sealed
 * configuration is erased when the link is first opened, revoked, or its user deleted. Without a
 * password the configuration has none and the phone asks the person for it. The password given is
 * not checked against the stored HA1s: a wrong one shows as a 401 on the phone's first REGISTER.
 *
 * The WebSocket URL is the per-user one on the host the POST was sent to (wss: for https:):
 * `/sip/<user>` for a user of SIPEDGE_DOMAIN, `/sip/<user>@<domain>` for a user of another
 * domain (`workers/connection/user-socket.ts`). The URI and the digest realm are the user's domain (the
 * caller's); ICE servers are the domain's (none by default: the media node answers with its own
 * candidates). A link of another domain than SIPEDGE_DOMAIN carries the domain (base64url) before
 * its token, `/provision/<domain>.<token>`, so that the edge knows which Directory holds it.
 */
import { createRoute, z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { renderSVG } from 'uqr';
import { directoryOf } from '../directory/directory.ts';
import type { IceServer } from '../directory/domain-settings.ts';
import { aorForUser } from '../sip/address-of-record.ts';
import { base64url, fromBase64url, secretDigest } from './api-token.ts';
import { apiApp, jsonBody, jsonResponse, problems, type ApiEnv } from './openapi.ts';
import { callerDomain, operatorAuth } from './operator-auth.ts';
import { problemException, problemResponse } from './problem.ts';
import { seal, unseal } from './provisioning-seal.ts';
import { readUser, usernameSchema } from './users.ts';

const DEFAULT_LINK_TTL_SECONDS = 86_400;
const MAX_LINK_TTL_SECONDS = 7 * 86_400;

const iceServerSchema = z
  .strictObject({
    urls: z.union([z.string(), z.array(z.string()).min(1, 'must not be empty').max(8, 'must be at most 8 URLs')]).refine(
      (urls) => (typeof urls === 'string' ? [urls] : urls).every((url) => /^(stun|stuns|turn|turns):[^\s]{1,250}$/.test(url)),
      'must be stun:, stuns:, turn: or turns: URLs (RFC 7064, RFC 7065)',
    ),
    username: z.string().max(256, 'must be at most 256 characters').optional(),
    credential: z.string().max(256, 'must be at most 256 characters').optional().openapi({ writeOnly: true }),
  })
  .openapi('IceServer');

const settingsSchema = z.strictObject({ iceServers: z.array(iceServerSchema).max(8, 'must be at most 8 servers') }).openapi('ProvisioningSettings');

export const provisionSchema = z
  .strictObject({
    password: z
      .string()
      .min(8, 'must be at least 8 characters')
      .max(128, 'must be at most 128 characters')
      .optional()
      .openapi({ writeOnly: true, description: "the user's password, for the one-time link's configuration only" }),
    link: z.boolean('must be true or false').default(true).openapi({ description: 'also make a one-time link (default true)' }),
    linkTtlSeconds: z
      .int('must be a whole number of seconds')
      .min(60, 'must be at least 60')
      .max(MAX_LINK_TTL_SECONDS, `must be at most ${MAX_LINK_TTL_SECONDS}`)
      .default(DEFAULT_LINK_TTL_SECONDS),
  })
  .openapi('ProvisioningRequest');

const iceServerOut = z.object({ urls: z.union([z.string(), z.array(z.string())]), username: z.string().optional(), credential: z.string().optional() });

const configSchema = z
  .object({
    username: z.string(),
    uri: z.string(),
    authorizationUser: z.string(),
    displayName: z.string().optional(),
    webSocketUrl: z.string(),
    iceServers: z.array(iceServerOut),
    sipjs: z.looseObject({}).openapi({ description: 'SIP.js UserAgentOptions (make `uri` with UserAgent.makeURI)' }),
    jssip: z.looseObject({}).openapi({ description: 'JsSIP: `configuration` for new JsSIP.UA (sockets: a WebSocketInterface of webSocketUrl) and `callOptions`' }),
  })
  .openapi('ProvisioningConfig');

export const provisionedSchema = z
  .object({
    config: configSchema.openapi({ description: 'the configuration, never with a password' }),
    link: z
      .object({
        id: z.string(),
        url: z.string().openapi({ description: 'opens once (GET), then answers 410' }),
        expiresAt: z.string(),
        includesPassword: z.boolean(),
        qrSvg: z.string().openapi({ description: 'a QR code of `url`, as an SVG image' }),
      })
      .optional(),
  })
  .openapi('Provisioned');

interface JsonIceServer {
  urls: string | string[];
  username?: string;
  credential?: string;
}

function jsonIceServer(server: IceServer): JsonIceServer {
  return { ...server, urls: typeof server.urls === 'string' ? server.urls : [...server.urls] };
}

export interface ProvisioningConfig {
  readonly username: string;
  readonly uri: string;
  readonly authorizationUser: string;
  readonly displayName?: string;
  readonly webSocketUrl: string;
  readonly iceServers: JsonIceServer[];
  readonly sipjs: Record<string, unknown>;
  readonly jssip: Record<string, unknown>;
}

/** The configuration of one user, for both libraries; `password` only when given. */
export function provisioningConfig(input: {
  readonly username: string;
  readonly domain: string;
  readonly displayName?: string;
  readonly webSocketUrl: string;
  readonly iceServers: readonly IceServer[];
  readonly password?: string;
}): ProvisioningConfig {
  const uri = `sip:${aorForUser(input.username, input.domain)}`;
  const iceServers = input.iceServers.map(jsonIceServer);
  return {
    username: input.username,
    uri,
    authorizationUser: input.username,
    ...(input.displayName === undefined ? {} : { displayName: input.displayName }),
    webSocketUrl: input.webSocketUrl,
    iceServers,
    sipjs: {
      uri,
      transportOptions: { server: input.webSocketUrl },
      authorizationUsername: input.username,
      ...(input.password === undefined ? {} : { authorizationPassword: input.password }),
      ...(input.displayName === undefined ? {} : { displayName: input.displayName }),
      sessionDescriptionHandlerFactoryOptions: { peerConnectionConfiguration: { iceServers } },
    },
    jssip: {
      webSocketUrl: input.webSocketUrl,
      configuration: {
        uri,
        authorization_user: input.username,
        ...(input.password === undefined ? {} : { password: input.password }),
        ...(input.displayName === undefined ? {} : { display_name: input.displayName }),
        register: true,
      },
      callOptions: { pcConfig: { iceServers } },
    },
  };
}

function webSocketUrlFor(requestUrl: string, username: string, domain: string | undefined): string {
  const url = new URL(requestUrl);
  return `${url.protocol === 'https:' ? 'wss' : 'ws'}://${url.host}/sip/${encodeURIComponent(username)}${domain === undefined ? '' : `@${domain}`}`;
}

function isInstallationDomain(env: Env, domain: string): boolean {
  return domain.toLowerCase() === env.SIPEDGE_DOMAIN.toLowerCase();
}

/** The answer of a provisioning POST, for `username` (checked to exist); shared with `/me/provisioning`. */
export async function provision(c: Context<ApiEnv>, username: string, input: z.infer<typeof provisionSchema>): Promise<z.infer<typeof provisionedSchema>> {
  const domain = callerDomain(c);
  const installation = isInstallationDomain(c.env, domain);
  const view = await readUser(c.env, domain, username);
  const directory = directoryOf(c.env, domain);
  const { iceServers } = await directory.provisioningSettings();
  const base = { username, domain, webSocketUrl: webSocketUrlFor(c.req.url, username, installation ? undefined : domain), iceServers, ...(view.displayName === undefined ? {} : { displayName: view.displayName }) };
  const config = provisioningConfig(base);
  if (!input.link) return { config };

  const token = base64url(crypto.getRandomValues(new Uint8Array(32)));
  const id = base64url(crypto.getRandomValues(new Uint8Array(9)));
  const expiresAt = Date.now() + input.linkTtlSeconds * 1000;
  const full = provisioningConfig({ ...base, ...(input.password === undefined ? {} : { password: input.password }) });
  await directory.createProvisioningLink({ id, tokenSha256: await secretDigest(token), username, sealed: await seal(token, JSON.stringify(full)), expiresAt });
  const url = `${new URL(c.req.url).origin}/provision/${installation ? '' : `${base64url(new TextEncoder().encode(domain))}.`}${token}`;
  return {
    config,
    link: { id, url, expiresAt: new Date(expiresAt).toISOString(), includesPassword: input.password !== undefined, qrSvg: renderSVG(url) },
  };
}

/** `GET /provision/:token`: the link's configuration, once. Mounted by the Worker outside /api/v1. */
export async function openProvisioningLink(env: Env, path: string): Promise<Response> {
  const noStore = { 'Cache-Control': 'no-store' };
  const match = /^(?:([A-Za-z0-9_-]{1,340})\.)?([A-Za-z0-9_-]{43})$/.exec(path);
  const domainBytes = match?.[1] === undefined ? undefined : fromBase64url(match[1]);
  const token = match?.[2];
  if (token === undefined || (match?.[1] !== undefined && domainBytes === undefined)) {
    return problemResponse({ status: 404, title: 'Not Found', detail: 'there is no such provisioning link' }, noStore);
  }
  const domain = domainBytes === undefined ? env.SIPEDGE_DOMAIN : new TextDecoder().decode(domainBytes);
  const taken = await directoryOf(env, domain).takeProvisioningLink(await secretDigest(token));
  if (taken.state === 'unknown') return problemResponse({ status: 404, title: 'Not Found', detail: 'there is no such provisioning link' }, noStore);
  if (taken.state === 'gone') {
    return problemResponse({ status: 410, title: 'Gone', detail: 'this provisioning link was already used, revoked or has expired; ask for a new one' }, noStore);
  }
  const config = await unseal(token, taken.sealed);
  if (config === undefined) throw new Error('a provisioning link did not open with its own token');
  return new Response(config, { headers: { 'Content-Type': 'application/json', ...noStore } });
}

const userParams = z.object({ username: usernameSchema });

const provisionRoute = createRoute({
  operationId: 'provisionUser',
  method: 'post',
  path: '/users/{username}/provisioning',
  summary: 'Configuration for SIP.js and JsSIP, and a one-time link with its QR code',
  request: { params: userParams, body: jsonBody(provisionSchema) },
  responses: { 201: jsonResponse(provisionedSchema, 'the configuration (and link)'), ...problems(400, 404, 415) },
});

const revokeLinkRoute = createRoute({
  operationId: 'revokeProvisioningLink',
  method: 'delete',
  path: '/users/{username}/provisioning/{id}',
  summary: 'Revoke a one-time provisioning link',
  request: { params: z.object({ username: usernameSchema, id: z.string().regex(/^[A-Za-z0-9_-]{12}$/, 'must be a link id from the provisioning answer') }) },
  responses: { 204: { description: 'revoked' }, ...problems(400, 404) },
});

const getSettingsRoute = createRoute({
  operationId: 'getProvisioningSettings',
  method: 'get',
  path: '/provisioning-settings',
  summary: "The ICE servers given to the domain's phones (credentials not shown)",
  responses: { 200: jsonResponse(settingsSchema, 'the settings') },
});

const putSettingsRoute = createRoute({
  operationId: 'putProvisioningSettings',
  method: 'put',
  path: '/provisioning-settings',
  summary: "Set the ICE servers given to the domain's phones",
  request: { body: jsonBody(settingsSchema) },
  responses: { 200: jsonResponse(settingsSchema, 'the settings (credentials not shown)'), ...problems(400, 415) },
});

/** Mounted at /api/v1. */
export const provisioning = apiApp();

for (const path of ['/users/*', '/provisioning-settings']) provisioning.use(path, operatorAuth());

function withoutCredentials(servers: readonly IceServer[]): JsonIceServer[] {
  return servers.map(({ credential: _credential, ...rest }) => jsonIceServer(rest));
}

provisioning.openapi(provisionRoute, async (c) => c.json(await provision(c, c.req.valid('param').username, c.req.valid('json')), 201));

provisioning.openapi(revokeLinkRoute, async (c) => {
  const { username, id } = c.req.valid('param');
  if (!(await directoryOf(c.env, callerDomain(c)).revokeProvisioningLink(username, id))) {
    throw problemException({ status: 404, title: 'Link not found', detail: `user "${username}" has no unused provisioning link "${id}"` });
  }
  return c.body(null, 204);
});

provisioning.openapi(getSettingsRoute, async (c) => c.json({ iceServers: withoutCredentials((await directoryOf(c.env, callerDomain(c)).provisioningSettings()).iceServers) }, 200));

provisioning.openapi(putSettingsRoute, async (c) => {
  const settings = c.req.valid('json');
  await directoryOf(c.env, callerDomain(c)).setProvisioningSettings(settings);
  return c.json({ iceServers: withoutCredentials(settings.iceServers) }, 200);
});
