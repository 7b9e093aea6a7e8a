/**
 * Every operation of `/api/v1`, swept from the OpenAPI document the API serves, so that a route
 * added later cannot escape these checks: two domains, A (SIPEDGE_DOMAIN, the installation token)
 * with one of each resource, and B (created through `POST /api/v1/domains`, its first operator
 * token), then for every operation, with A's resource ids in its path parameters:
 * - B's operator token is refused (403 or 404 problem, the very answer it gets for an id that
 *   exists nowhere) or acts on B's own domain (the commented `CROSS_DOMAIN` list says which and
 *   why), and no answer carries anything of A's it was not sent; afterwards A's resources read
 *   back unchanged; so for A's names sent in bodies and queries, and for presence events; and
 *   the installation token on B's resources (one of each too) likewise, but for managing B as a
 *   domain (`CROSS_INSTALLATION`);
 * - a user token opens `/me` only (403 elsewhere), and B's user sees only itself there;
 * - a body of the wrong type is a 400 problem naming the field (a JSON Pointer), and changes
 *   nothing; a malformed path parameter or an unknown query parameter is a 400 naming it;
 * - A's tokens get a 2xx for the simple valid request of the `HAPPY` table, which must hold an
 *   entry for every operation; no answer ever carries a password or other secret;
 * - every answer's status is one the operation's responses list, and a JSON answer is as the
 *   document's schema for it says (no member it does not declare);
 * - a domain deleted and created again (another tenant, perhaps) starts with a new domain's settings.
 * A request without a token is refused with a 401 problem for every operation by
 * `api-openapi.test.ts` ("answers every documented operation without a token"), not repeated here.
 */
import { env, exports } from 'cloudflare:workers';
import { beforeAll, describe, expect, it } from 'vitest';
import { RequestSigner } from '../../shared/signing/index.ts';
import { directoryOf } from '../../workers/directory/directory.ts';
import { EDGE } from './support/sip-socket.ts';
import { DOMAIN, operatorHeaders } from './support/users.ts';

interface Schema {
  $ref?: string;
  type?: string | string[];
  properties?: Record<string, Schema>;
  additionalProperties?: boolean | Schema;
  items?: Schema;
  required?: string[];
  anyOf?: Schema[];
  oneOf?: Schema[];
  allOf?: Schema[];
  enum?: unknown[];
  const?: unknown;
}
interface Operation {
  operationId?: string;
  security?: Record<string, unknown>[];
  parameters?: { name: string; in: string }[];
  responses: Record<string, { content?: Record<string, { schema?: Schema }> }>;
  requestBody?: { content: Record<string, { schema?: Schema }> };
}
interface Document {
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, Schema> };
}
interface Op {
  readonly id: string;
  readonly method: string;
  readonly path: string;
  readonly operation: Operation;
}

/** Who sends a request: an operator token, a user token (`/me`), or a media node's signature. */
type Caller = 'operator' | 'user' | 'signed';

interface Request {
  /** Path parameters other than A's fixtures (a throwaway resource made by `setup`). */
  readonly params?: Readonly<Record<string, string>>;
  readonly query?: string;
  readonly body?: unknown;
  readonly csv?: string;
}

interface HappyCase {
  readonly status: number;
  readonly request?: Request;
  /** Makes what the request needs and returns the request (a resource the operation deletes). */
  readonly setup?: () => Promise<Request>;
}

const B = 'sweep-b.example';
const PASSWORD = 'alma long password';
const PBX_PASSWORD = 'pbx-secret-marker';
const WEBHOOK_SECRET = 'webhook-secret-marker-0123';

/** A's resources, as their fixtures make them. */
const A = {
  user: 'sweep-alma',
  displayName: 'Alma Sweepmarker',
  link: 'sweep-a-pbx',
  linkAgent: 'A-link-agent-marker',
  route: 'sweep-a-route',
  routeCallerId: 'a-route-callerid-marker',
  mapping: 'sweep-a-map',
  mappingNumber: '4930123456',
  call: 'sweep-a-call',
  callee: '4917000111222',
  presenceNote: 'a-presence-note-marker',
  settingsCallerId: 'a-settings-callerid-marker',
  ice: 'stun:a-ice-marker.example',
  iceCredential: 'a-ice-credential-marker',
  tokenName: 'alma phone marker',
  node: 'sweep-node',
};

type Fixture = typeof A;

/** B's resources of each kind, for the installation token's sweep. */
const BF: Fixture = {
  user: 'sweep-bruno',
  displayName: 'Bruno Sweepmarker',
  link: 'sweep-b-pbx',
  linkAgent: 'B-link-agent-marker',
  route: 'sweep-b-route',
  routeCallerId: 'b-route-callerid-marker',
  mapping: 'sweep-b-map',
  mappingNumber: '4940123456',
  call: 'sweep-b-call',
  callee: '4969000111222',
  presenceNote: 'b-presence-note-marker',
  settingsCallerId: 'b-settings-callerid-marker',
  ice: 'stun:b-ice-marker.example',
  iceCredential: 'b-ice-credential-marker',
  tokenName: 'bruno phone marker',
  node: A.node,
};

/** Set by the fixtures: A's user token (its id) and provisioning link, B's operator token and its users' tokens. */
const ids = { token: '', userToken: '', provisioningLink: '', bToken: '', bUserToken: '' };
const bIds = { token: '', userToken: '', provisioningLink: '' };

/** Whose resources a sweep names: the domain, its fixtures, its operator token. */
interface Owner {
  readonly domain: string;
  readonly fixture: Fixture;
  readonly ids: { token: string; userToken: string; provisioningLink: string };
  readonly headers: () => Record<string, string>;
}

const OWNER_A: Owner = { domain: DOMAIN, fixture: A, ids, headers: operatorHeaders };
const OWNER_B: Owner = { domain: B, fixture: BF, ids: bIds, headers: () => bearer(ids.bToken) };

/** Every value the owner's fixtures hold that another domain must never be shown (unless it sent it). */
function markersOf(owner: Owner): string[] {
  return [...Object.entries(owner.fixture).filter(([key]) => key !== 'node').map(([, value]) => value), owner.ids.token, owner.ids.provisioningLink, owner.domain];
}

/** What no answer may ever carry, to anybody. (A TURN credential is no such secret: phones get it in their configuration.) */
const SECRETS = [PASSWORD, PBX_PASSWORD, WEBHOOK_SECRET];

function bodiesOf(f: Fixture) {
  return {
    user: { password: PASSWORD, displayName: f.displayName, pbx: { link: f.link, username: '1001', password: PBX_PASSWORD } },
    link: { host: '127.0.0.1', port: 9, transport: 'tcp', register: false, user_agent: f.linkAgent },
    route: { pattern: '49\\d+', trunks: [f.link], caller_id: { user: f.routeCallerId } },
    mapping: { number: f.mappingNumber, users: [f.user] },
    routingSettings: { user_caller_ids: { [f.user]: { user: f.settingsCallerId } }, webhooks: { inbound: { url: 'http://127.0.0.1:9/inbound', secret: WEBHOOK_SECRET } } },
    provisioningSettings: { iceServers: [{ urls: f.ice, username: 'ice-user', credential: f.iceCredential }] },
  };
}

const { user: userBody, link: linkBody, route: routeBody, mapping: mappingBody, routingSettings: routingSettingsBody, provisioningSettings: provisioningSettingsBody } = bodiesOf(A);

function bearer(token: string): Record<string, string> {
  return { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' };
}

interface Answer {
  readonly status: number;
  readonly contentType: string;
  readonly text: string;
}

async function send(method: string, path: string, headers: Record<string, string>, body?: unknown, csv?: string): Promise<Answer> {
  const init: RequestInit = { method: method.toUpperCase(), headers: csv === undefined ? headers : { ...headers, 'Content-Type': 'text/csv' } };
  if (csv !== undefined) init.body = csv;
  else if (body !== undefined) init.body = JSON.stringify(body);
  const response = await exports.default.fetch(`${EDGE}/api/v1${path}`, init);
  const contentType = response.headers.get('Content-Type') ?? '';
  if (contentType.startsWith('text/event-stream')) {
    // The presence stream does not end: its first event is enough.
    const reader = response.body!.getReader();
    const { value } = await reader.read();
    await reader.cancel();
    return { status: response.status, contentType, text: new TextDecoder().decode(value) };
  }
  return { status: response.status, contentType, text: await response.text() };
}

/** A media node's signed request, as `media-node/edge/` sends it. */
async function sendSigned(method: string, path: string, body: unknown): Promise<Answer> {
  const text = JSON.stringify(body);
  const signature = await new RequestSigner(env.SIPEDGE_MEDIA_SECRET).sign({ method: method.toUpperCase(), path: `/api/v1${path}`, body: text });
  const response = await exports.default.fetch(`${EDGE}/api/v1${path}`, { method: method.toUpperCase(), headers: { 'Content-Type': 'application/json', ...signature }, body: text });
  return { status: response.status, contentType: response.headers.get('Content-Type') ?? '', text: await response.text() };
}

async function ok(answer: Promise<Answer>, ...statuses: number[]): Promise<unknown> {
  const { status, text } = await answer;
  expect(statuses, text).toContain(status);
  return text === '' ? undefined : JSON.parse(text);
}

/** When the sweep's media node started: the same in every heartbeat, so that none looks like a restart. */
const NODE_STARTED_AT = new Date(Date.now() - 60_000).toISOString();

function heartbeatBody(nodeId: string) {
  return { nodeId, region: 'eu', state: 'up', controlUrl: `http://127.0.0.1:18091/${nodeId}`, pbxAddress: '127.0.0.1', capacity: 10, sessions: 0, load: 0, cpu: null, startedAt: NODE_STARTED_AT, sentAt: new Date().toISOString() };
}

let serial = 0;
function fresh(prefix: string): string {
  serial += 1;
  return `${prefix}-${serial}`;
}

/**
 * The simple valid request of every operation, by operationId, with A's tokens; a new route needs
 * an entry here (the sweep fails without one). An operation that deletes gets a throwaway
 * resource from `setup`, so that A's fixtures stay for the others.
 */
const HAPPY: Readonly<Record<string, HappyCase>> = {
  listCalls: { status: 200, request: { query: `user=${A.user}&limit=10` } },
  getCall: { status: 200 },
  listMyCalls: { status: 200 },
  getMyCall: { status: 200 },
  listDomains: { status: 200 },
  getDomain: { status: 200 },
  createDomain: { status: 201, request: { body: { name: 'sweep-c.example' } } },
  patchDomain: { status: 200, request: { body: { display_name: 'Sweep A' } } },
  deleteDomain: {
    status: 204,
    setup: async () => {
      await ok(send('post', '/domains', operatorHeaders(), { name: 'sweep-gone.example' }), 201);
      return { params: { name: 'sweep-gone.example' } };
    },
  },
  getMe: { status: 200 },
  getMyTrace: { status: 200 },
  getMyRegisterLog: { status: 200 },
  provisionMe: { status: 201, request: { body: { link: false } } },
  getMyPresence: { status: 200 },
  putMyPresence: { status: 200, request: { body: { status: 'open', note: 'at my desk' } } },
  deleteMyPresence: { status: 204 },
  listMediaNodes: { status: 200 },
  getMediaNodeLatency: { status: 200 },
  postMediaNodeHeartbeat: { status: 200, request: { body: heartbeatBody(A.node) } },
  postMediaSessionEnded: { status: 200, request: { body: { nodeId: A.node, sessionId: 'sweep-session', reason: 'closed', endedAt: new Date().toISOString(), requested: true } } },
  listPbxLinks: { status: 200 },
  putPbxLink: { status: 200, request: { body: linkBody } },
  getPbxLink: { status: 200 },
  getPbxLinkTrace: { status: 200 },
  getPbxLinkLatency: { status: 200 },
  deletePbxLink: {
    status: 204,
    setup: async () => {
      const id = fresh('sweep-tmp-pbx');
      await ok(send('put', `/pbx-links/${id}`, operatorHeaders(), linkBody), 201);
      return { params: { id } };
    },
  },
  getUserPresence: { status: 200 },
  putUserPresence: { status: 200, request: { body: { status: 'open', note: A.presenceNote } } },
  deleteUserPresence: { status: 204 },
  streamPresenceEvents: { status: 200, request: { query: `users=${A.user}` } },
  provisionUser: { status: 201, request: { body: {} } },
  revokeProvisioningLink: { status: 204 },
  getProvisioningSettings: { status: 200 },
  putProvisioningSettings: { status: 200, request: { body: provisioningSettingsBody } },
  createToken: { status: 201, request: { body: { name: 'sweep script' } } },
  listTokens: { status: 200 },
  revokeToken: {
    status: 204,
    setup: async () => {
      const created = (await ok(send('post', '/tokens', operatorHeaders(), { name: 'to revoke' }), 201)) as { id: string };
      return { params: { id: created.id } };
    },
  },
  getUserLatency: { status: 200 },
  importUsers: { status: 200, request: { csv: 'username,password\nsweep-imported,imported long password\n' } },
  listUsers: { status: 200, request: { query: 'q=sweep-al' } },
  putUser: { status: 200, request: { body: userBody } },
  getUser: { status: 200 },
  deleteUser: {
    status: 204,
    setup: async () => {
      const username = fresh('sweep-tmp-user');
      await ok(send('put', `/users/${username}`, operatorHeaders(), { password: 'a long password' }), 201);
      return { params: { username } };
    },
  },
  getUserPbxRegistration: { status: 200 },
  getUserTrace: { status: 200 },
  getUserRegisterLog: { status: 200 },
  listRoutes: { status: 200 },
  dryRunRoutes: { status: 200, request: { body: { user: A.user, dialled: A.callee } } },
  getRoute: { status: 200 },
  putRoute: { status: 200, request: { body: routeBody } },
  deleteRoute: {
    status: 204,
    setup: async () => {
      const id = fresh('sweep-tmp-route');
      await ok(send('put', `/routes/${id}`, operatorHeaders(), routeBody), 201);
      return { params: { id } };
    },
  },
  listInboundMappings: { status: 200 },
  getInboundMapping: { status: 200 },
  putInboundMapping: { status: 200, request: { body: mappingBody } },
  deleteInboundMapping: {
    status: 204,
    setup: async () => {
      const id = fresh('sweep-tmp-map');
      await ok(send('put', `/inbound-mappings/${id}`, operatorHeaders(), { number: '4930999', users: [A.user] }), 201);
      return { params: { id } };
    },
  },
  getRoutingSettings: { status: 200 },
  putRoutingSettings: { status: 200, request: { body: routingSettingsBody } },
};

/**
 * What B's operator token may get from an operation on A's ids other than a 403 or 404 problem,
 * and why. Whatever it gets, the answer must hold nothing of A's that B did not send, and A's
 * resources must read back unchanged afterwards.
 */
interface Allowed {
  readonly statuses: readonly number[];
  readonly reason: string;
  /** The answer may show the owner's data: the installation token managing a domain. */
  readonly sees?: true;
  /** It may change the owner's domain record (not its resources). */
  readonly changesDomain?: true;
}

const CROSS_DOMAIN: Readonly<Record<string, Allowed>> = {
  // Not operations of the document, so not swept: GET /openapi.json itself (the same document for
  // every token), and GET /domains/{name} of B's own name (B's token reads its own domain, and the
  // sweep sends A's name, which B is refused).
  // Lists and settings are the caller's domain's: B gets its own (none of A's).
  listCalls: { statuses: [200], reason: "B's calls" },
  listDomains: { statuses: [200], reason: "B's own domain only" },
  listPbxLinks: { statuses: [200], reason: "B's links" },
  listTokens: { statuses: [200], reason: "B's tokens" },
  listUsers: { statuses: [200], reason: "B's users" },
  listRoutes: { statuses: [200], reason: "B's rules" },
  listInboundMappings: { statuses: [200], reason: "B's mappings" },
  getRoutingSettings: { statuses: [200], reason: "B's routing settings" },
  getProvisioningSettings: { statuses: [200], reason: "B's ICE servers" },
  // Shared infrastructure: media nodes serve every domain and show no calls.
  listMediaNodes: { statuses: [200], reason: 'media nodes are the installation\'s, shared by all domains' },
  getMediaNodeLatency: { statuses: [200], reason: 'media nodes are the installation\'s, shared by all domains' },
  // Signed by a media node, not token-authenticated: a bearer token opens nothing there.
  postMediaNodeHeartbeat: { statuses: [401], reason: 'needs a media node signature, whatever the token' },
  postMediaSessionEnded: { statuses: [401], reason: 'needs a media node signature, whatever the token' },
  // Names are per domain: the same name in B is B's own resource, created or replaced in B.
  putUser: { statuses: [201, 409], reason: "creates B's own user of that name; A's PBX link in the body is no link of B's (409 naming #/pbx/link)" },
  putRoute: { statuses: [201], reason: "creates B's own rule of that id" },
  putInboundMapping: { statuses: [201], reason: "creates B's own mapping of that id" },
  putRoutingSettings: { statuses: [200], reason: "sets B's routing settings" },
  putProvisioningSettings: { statuses: [200], reason: "sets B's ICE servers" },
  createToken: { statuses: [201], reason: "creates a token of B" },
  importUsers: { statuses: [200], reason: "imports into B" },
  dryRunRoutes: { statuses: [200], reason: "plans with B's rules" },
  // PBX link ids are unique across the edge (the PbxLink object is named by the id): B is told the id is taken.
  putPbxLink: { statuses: [409], reason: 'link ids are the edge\'s; the 409 names no domain and shows nothing of the link' },
};

/**
 * The installation token (SIPEDGE_OPERATOR_TOKEN) on B's resources: like another domain's token
 * (it acts on SIPEDGE_DOMAIN), except that it manages the domains themselves.
 */
const CROSS_INSTALLATION: Readonly<Record<string, Allowed>> = {
  ...CROSS_DOMAIN,
  putUser: { statuses: [201, 409], reason: "creates SIPEDGE_DOMAIN's own user of that name; B's PBX link in the body is no link of SIPEDGE_DOMAIN's (409 naming #/pbx/link)" },
  listDomains: { statuses: [200], sees: true, reason: 'the installation token lists every domain' },
  getDomain: { statuses: [200], sees: true, reason: 'the installation token reads any domain' },
  patchDomain: { statuses: [200], sees: true, changesDomain: true, reason: "the installation token changes any domain's display name, aliases and retention" },
  deleteDomain: { statuses: [409], sees: true, reason: 'the installation token deletes domains; B still has users, and the 409 says how many' },
  // Run after the valid requests, by which this domain exists.
  createDomain: { statuses: [409], reason: 'the installation token creates domains; this one exists by now' },
};

let doc: Document;
let ops: Op[];

function operationsOf(document: Document): Op[] {
  return Object.entries(document.paths).flatMap(([path, methods]) =>
    Object.entries(methods).map(([method, operation]) => ({ id: operation.operationId ?? `${method.toUpperCase()} ${path}`, method, path, operation })),
  );
}

function callerOf(op: Op): Caller {
  if (op.operation.security?.some((scheme) => 'mediaNodeSignature' in scheme) === true) return 'signed';
  return op.path === '/me' || op.path.startsWith('/me/') ? 'user' : 'operator';
}

/** The owner's id for a path parameter, by the resource the path names. */
function parameterOf(owner: Owner, path: string, name: string): string {
  const f = owner.fixture;
  if (name === 'username') return f.user;
  if (name === 'name' && path.startsWith('/domains/')) return owner.domain;
  if (name === 'id') {
    if (path.startsWith('/pbx-links/')) return f.link;
    if (path.startsWith('/routes/')) return f.route;
    if (path.startsWith('/inbound-mappings/')) return f.mapping;
    if (path.startsWith('/tokens/')) return owner.ids.token;
    if (path.startsWith('/calls/') || path.startsWith('/me/calls/')) return f.call;
    if (path.startsWith('/users/{username}/provisioning/')) return owner.ids.provisioningLink;
    if (path.startsWith('/media-nodes/')) return f.node;
  }
  throw new Error(`no fixture for the parameter ${name} of ${path}: add one to parameterOf`);
}

function urlOf(op: Op, request: Request = {}, owner: Owner = OWNER_A): string {
  const path = op.path.replaceAll(/\{([^}]+)\}/g, (_match, name: string) => encodeURIComponent(request.params?.[name] ?? parameterOf(owner, op.path, name)));
  return request.query === undefined ? path : `${path}?${request.query}`;
}

/** A request of the `HAPPY` table (written for A) naming the owner's resources instead of A's. */
function retarget(request: Request, owner: Owner): Request {
  if (owner === OWNER_A) return request;
  const pairs = Object.keys(A).map((key) => [A[key as keyof Fixture], owner.fixture[key as keyof Fixture]] as const);
  const swap = (text: string): string => pairs.reduce((result, [from, to]) => result.replaceAll(from, to), text);
  return {
    ...request,
    ...(request.query === undefined ? {} : { query: swap(request.query) }),
    ...(request.body === undefined ? {} : { body: JSON.parse(swap(JSON.stringify(request.body))) as unknown }),
    ...(request.csv === undefined ? {} : { csv: swap(request.csv) }),
  };
}

function pathParameters(op: Op): string[] {
  return [...op.path.matchAll(/\{([^}]+)\}/g)].map((match) => match[1] as string);
}

function happyOf(op: Op): HappyCase {
  const found = HAPPY[op.id];
  if (found === undefined) throw new Error(`${op.id} (${op.method.toUpperCase()} ${op.path}) has no entry in HAPPY`);
  return found;
}

/** The owner's ids in a request, each with an id of the same shape that names nothing anywhere. */
function unknownIds(owner: Owner): [string, string][] {
  const f = owner.fixture;
  return [
    [f.user, 'sweep-nobody'],
    [f.link, 'sweep-no-pbx'],
    [f.route, 'sweep-no-route'],
    [f.mapping, 'sweep-no-map'],
    [f.call, 'sweep-no-call'],
    [owner.ids.token, 'AAAAAAAAAAAA'],
    [owner.ids.provisioningLink, 'BBBBBBBBBBBB'],
    [owner.domain, 'nowhere.example'],
  ];
}

function unknownIn(url: string, owner: Owner): string {
  return unknownIds(owner).reduce((text, [known, unknown]) => text.replaceAll(known, unknown), url);
}

function knownIn(text: string, owner: Owner): string {
  return unknownIds(owner).reduce((result, [known, unknown]) => result.replaceAll(unknown, known), text);
}

/** What the caller did not send, of the owner's: none of it may be in its answer. */
function unsent(markers: readonly string[], url: string, request: Request): string[] {
  const sent = `${decodeURIComponent(url)} ${JSON.stringify(request.body ?? null)} ${request.csv ?? ''}`;
  return markers.filter((marker) => marker !== '' && !sent.includes(marker));
}

function expectNone(text: string, markers: readonly string[], where: string): void {
  for (const marker of markers) expect(text.includes(marker), `${where} shows "${marker}": ${text.slice(0, 400)}`).toBe(false);
}

/** Every answer is one the document declares for the operation, and a JSON answer is as its schema describes it. */
function expectDeclared(op: Op, answer: Answer): void {
  expect(Object.keys(op.operation.responses), `${op.id} answered ${answer.status}, which its OpenAPI responses do not list: ${answer.text.slice(0, 200)}`).toContain(String(answer.status));
  const schema = op.operation.responses[String(answer.status)]?.content?.[answer.contentType.split(';')[0]!]?.schema;
  if (answer.contentType.includes('json') && answer.text !== '') {
    expect(schema, `${op.id} answered ${answer.status} ${answer.contentType}, which its document does not describe`).toBeDefined();
    expect(schemaErrors(schema!, JSON.parse(answer.text), '#'), `${op.id} answered ${answer.status}: ${answer.text.slice(0, 200)}`).toEqual([]);
  }
}

function expectProblem(answer: Answer, statuses: readonly number[], where: string): void {
  expect(statuses, `${where}: ${answer.status} ${answer.text.slice(0, 300)}`).toContain(answer.status);
  expect(answer.contentType, where).toBe('application/problem+json');
  const problem = JSON.parse(answer.text) as { status: number; title: string };
  expect(problem.status, where).toBe(answer.status);
  expect(problem.title, where).toBeTruthy();
}

/**
 * The owner's resources as its own tokens read them, without what changes by itself
 * (registration, timers); `withDomain` false leaves out the domain itself (which the installation
 * token may change).
 */
async function snapshotOf(owner: Owner = OWNER_A, withDomain = true): Promise<Record<string, unknown>> {
  const f = owner.fixture;
  const paths = [
    '/users',
    `/users/${f.user}`,
    `/users/${f.user}/presence`,
    '/pbx-links',
    `/pbx-links/${f.link}`,
    '/routes',
    '/inbound-mappings',
    '/routing-settings',
    '/provisioning-settings',
    '/tokens',
    '/calls',
    ...(withDomain ? [`/domains/${owner.domain}`] : []),
  ];
  const snapshot: Record<string, unknown> = {};
  for (const path of paths) {
    const value = (await ok(send('get', path, owner.headers()), 200)) as Record<string, unknown>;
    const { registration: _registration, proxied_users: _proxied, pidf: _pidf, until: _until, ...rest } = value;
    snapshot[path] = rest;
  }
  snapshot.me = await ok(send('get', '/me', bearer(owner.ids.userToken)), 200);
  return snapshot;
}

async function sendAs(caller: Caller, token: Record<string, string>, op: Op, request: Request): Promise<Answer> {
  const url = urlOf(op, request);
  if (caller === 'signed') return sendSigned(op.method, url, request.body);
  return send(op.method, url, token, request.body, request.csv);
}

/** One of each resource in the owner's domain, through the API with its own token (a call record written where calls write it). */
async function furnish(owner: Owner): Promise<void> {
  const f = owner.fixture;
  const headers = owner.headers();
  const bodies = bodiesOf(f);
  await ok(send('put', `/pbx-links/${f.link}`, headers, bodies.link), 201);
  await ok(send('put', `/users/${f.user}`, headers, bodies.user), 201);
  const token = (await ok(send('post', '/tokens', headers, { name: f.tokenName, username: f.user }), 201)) as { id: string; token: string };
  owner.ids.token = token.id;
  owner.ids.userToken = token.token;
  await ok(send('put', `/routes/${f.route}`, headers, bodies.route), 201);
  await ok(send('put', `/inbound-mappings/${f.mapping}`, headers, bodies.mapping), 201);
  await ok(send('put', '/routing-settings', headers, bodies.routingSettings), 200);
  await ok(send('put', '/provisioning-settings', headers, bodies.provisioningSettings), 200);
  const provisioned = (await ok(send('post', `/users/${f.user}/provisioning`, headers, {}), 201)) as { link: { id: string } };
  owner.ids.provisioningLink = provisioned.link.id;
  await ok(send('put', `/users/${f.user}/presence`, headers, { status: 'open', note: f.presenceNote }), 200);
  const startedAt = Date.now() - 60_000;
  await directoryOf(env, owner.domain).recordCalls([{ id: f.call, startedAt, answeredAt: startedAt + 2_000, endedAt: startedAt + 30_000, caller: f.user, callee: f.callee, direction: 'outbound', linkId: f.link, user: f.user, status: 200, reason: 'OK', endedBy: 'caller', endReason: 'BYE' }]);
}

beforeAll(async () => {
  // A (SIPEDGE_DOMAIN), one of each resource.
  await furnish(OWNER_A);
  const startedAt = Date.now() - 60_000;
  // A call of another user of A, which A's user token must not see either.
  await directoryOf(env, DOMAIN).recordCalls([{ id: 'sweep-otto-call', startedAt: startedAt + 1, caller: 'sweep-otto', callee: '4930777', direction: 'local', user: 'sweep-otto', peerUser: 'sweep-olga' }]);
  await ok(sendSigned('post', '/media-nodes/heartbeat', heartbeatBody(A.node)), 200);

  // B, with its first operator token and a user of its own.
  const b = (await ok(send('post', '/domains', operatorHeaders(), { name: B }), 201)) as { operator_token: { token: string } };
  ids.bToken = b.operator_token.token;
  await ok(send('put', '/users/sweep-bea', bearer(ids.bToken), { password: 'beas long password' }), 201);
  ids.bUserToken = ((await ok(send('post', '/tokens', bearer(ids.bToken), { name: 'bea phone', username: 'sweep-bea' }), 201)) as { token: string }).token;
  await furnish(OWNER_B);

  const response = await exports.default.fetch(`${EDGE}/api/v1/openapi.json`, { headers: operatorHeaders() });
  doc = (await response.json()) as Document;
  ops = operationsOf(doc);
}, 60_000);

// The first request starts the Worker, which can take seconds on a loaded machine.
describe('every /api/v1 operation', { timeout: 120_000 }, () => {
  it('has a unique operationId and a valid request in HAPPY, and HAPPY names no operation that is gone', () => {
    expect(ops.length).toBeGreaterThan(50);
    for (const op of ops) {
      expect(op.operation.operationId, `${op.method.toUpperCase()} ${op.path}`).toMatch(/^[a-z][A-Za-z]+$/);
      expect(HAPPY[op.id], `${op.id}: add a valid request to HAPPY`).toBeDefined();
    }
    expect(new Set(ops.map((op) => op.id)).size).toBe(ops.length);
    const documented = new Set(ops.map((op) => op.id));
    for (const id of [...Object.keys(HAPPY), ...Object.keys(CROSS_INSTALLATION)]) expect(documented, id).toContain(id);
  });

  it('opens /me only to user tokens, and shows B\'s user only itself there', async () => {
    const markers = markersOf(OWNER_A);
    for (const op of ops) {
      const request = happyOf(op).request ?? {};
      const url = urlOf(op, request);
      const caller = callerOf(op);
      if (caller === 'operator') {
        // A's user token on an operator route.
        const answer = await send(op.method, url, bearer(ids.userToken), request.body, request.csv);
        expectDeclared(op, answer);
        expectProblem(answer, [403], `A's user: ${op.id}`);
      } else if (caller === 'user') {
        // B's operator token is no user token; B's user token acts on B's user, whatever A's ids it names.
        expectProblem(await send(op.method, url, bearer(ids.bToken), request.body), [403], `B's operator: ${op.id}`);
        const answer = await send(op.method, url, bearer(ids.bUserToken), request.body);
        expectDeclared(op, answer);
        const where = `B's user: ${op.id} (${op.method.toUpperCase()} ${url})`;
        if (answer.status >= 400) expectProblem(answer, [404], where);
        else expect([200, 201, 204], where).toContain(answer.status);
        expectNone(answer.text, unsent(markers, url, request), where);
        if (op.id === 'getMe') expect(JSON.parse(answer.text)).toMatchObject({ username: 'sweep-bea', aor: `sweep-bea@${B}` });
      }
    }
  });

  it("shows A's user token its own calls only", async () => {
    const mine = (await ok(send('get', '/me/calls', bearer(ids.userToken)), 200)) as { calls: { id: string }[] };
    expect(mine.calls.map((record) => record.id)).toEqual([A.call]);
    const other = await send('get', '/me/calls/sweep-otto-call', bearer(ids.userToken));
    expectProblem(other, [404], "another user's call");
    const nowhere = await send('get', '/me/calls/sweep-none-call', bearer(ids.userToken));
    expect(`${other.status} ${other.text.replace('sweep-otto-call', 'sweep-none-call')}`).toBe(`${nowhere.status} ${nowhere.text}`);
  });

  it("never carries A's presence changes on B's event stream, even for a user of the same name", async () => {
    const twin = 'sweep-twin';
    await ok(send('put', `/users/${twin}`, operatorHeaders(), { password: 'twins long password' }), 201);
    await ok(send('put', `/users/${twin}`, bearer(ids.bToken), { password: 'twins long password' }), 201);
    const response = await exports.default.fetch(`${EDGE}/api/v1/presence/events?users=${twin}`, { headers: bearer(ids.bToken) });
    expect(response.status).toBe(200);
    const reader = response.body!.getReader();
    const decoder = new TextDecoder();
    let received = '';
    const until = async (text: string): Promise<void> => {
      while (!received.includes(text)) {
        const { done, value } = await reader.read();
        if (done) throw new Error(`the stream ended before "${text}": ${received}`);
        received += decoder.decode(value, { stream: true });
      }
    };
    await until('event: presence');
    expect(received).toContain('"basic":"closed","source":"registration"');
    // A's twin opens first, then B's is closed through the API: B's stream gets B's change, and never A's.
    await ok(send('put', `/users/${twin}/presence`, operatorHeaders(), { status: 'open' }), 200);
    await ok(send('put', `/users/${twin}/presence`, bearer(ids.bToken), { status: 'closed' }), 200);
    await until('"source":"api"');
    await reader.cancel();
    expect(received).not.toContain('"basic":"open"');
    expect(received).not.toContain(DOMAIN);
  });

  it("refuses B's operator token A's resources named in a body or a query, and shows it nothing of A's", async () => {
    const b = bearer(ids.bToken);
    const markers = markersOf(OWNER_A);
    const probes: { method: string; path: string; body?: unknown; status: number; pointer?: string }[] = [
      { method: 'post', path: '/tokens', body: { name: 'for A', domain: DOMAIN }, status: 403 },
      { method: 'post', path: '/tokens', body: { name: 'for alma', username: A.user }, status: 404 },
      { method: 'put', path: '/users/sweep-bob', body: { password: 'bobs long password', pbx: { link: A.link, username: '1002', password: 'bobs pbx password' } }, status: 409, pointer: '#/pbx/link' },
      { method: 'put', path: '/users/sweep-bob', body: { password: 'bobs long password', registration_mode: 'websocket', pbx: { link: A.link, username: '1002' } }, status: 409, pointer: '#/pbx/link' },
      { method: 'patch', path: `/domains/${B}`, body: { aliases: [`sip.${DOMAIN}`] }, status: 403 },
      { method: 'get', path: `/presence/events?users=sweep-bea,${A.user}`, status: 404 },
      { method: 'get', path: `/calls?user=${A.user}`, status: 200 },
      { method: 'get', path: '/users?q=sweep-al', status: 200 },
      { method: 'post', path: '/routes/dry-run', body: { user: A.user, dialled: A.callee }, status: 200 },
    ];
    for (const probe of probes) {
      const where = `B: ${probe.method.toUpperCase()} ${probe.path} ${JSON.stringify(probe.body ?? '')}`;
      const answer = await send(probe.method, probe.path, b, probe.body);
      expect(answer.status, `${where}: ${answer.text}`).toBe(probe.status);
      expectNone(answer.text, unsent(markers, probe.path, { body: probe.body }), where);
      if (probe.pointer !== undefined) expect((JSON.parse(answer.text) as { errors: { pointer: string }[] }).errors.map((error) => error.pointer), where).toEqual([probe.pointer]);
    }
    expect(await ok(send('get', `/calls?user=${A.user}`, b), 200)).toEqual({ calls: [] });
    expect(await ok(send('get', '/users?q=sweep-al', b), 200)).toEqual({ users: [] });
    // Nor may the installation give B a name of A's as an alias.
    await ok(send('patch', `/domains/${B}`, operatorHeaders(), { aliases: [DOMAIN] }), 409);
  });

  it("refuses B's operator token on A's resources, shows it nothing of A's, and leaves A's resources as they were", async () => {
    await sweepAgainst(OWNER_A, bearer(ids.bToken), CROSS_DOMAIN);
  });

  it('answers a body member of the wrong type with a 400 problem naming it, and changes nothing', async () => {
    const before = await snapshotOf();
    let swept = 0;
    for (const op of ops) {
      const schema = op.operation.requestBody?.content['application/json']?.schema;
      if (schema === undefined) continue;
      const { field, value } = wrongMember(schema);
      const where = `${op.id}: ${field} = ${JSON.stringify(value)}`;
      const valid = (happyOf(op).request?.body ?? {}) as Record<string, unknown>;
      const caller = callerOf(op);
      const answer = await sendAs(caller, caller === 'user' ? bearer(ids.userToken) : operatorHeaders(), op, { body: { ...valid, [field]: value } });
      expectDeclared(op, answer);
      expectProblem(answer, [400], where);
      const problem = JSON.parse(answer.text) as { detail?: string; errors?: { pointer?: string }[] };
      expect(problem.errors?.map((error) => error.pointer), `${where}: ${answer.text}`).toContain(`#/${field}`);
      swept += 1;
    }
    expect(swept).toBeGreaterThan(15);
    expect(await snapshotOf()).toEqual(before);
  });

  it('answers a malformed path parameter and an unknown query parameter with a 400 problem naming it', async () => {
    let swept = 0;
    for (const op of ops) {
      const caller = callerOf(op);
      if (caller === 'signed') continue;
      const token = caller === 'user' ? bearer(ids.userToken) : operatorHeaders();
      const request = happyOf(op).request ?? {};
      for (const name of pathParameters(op)) {
        const answer = await sendAs(caller, token, op, { ...request, params: { [name]: '!bad' } });
        expectDeclared(op, answer);
        expectProblem(answer, [400], `${op.id}: ${name}`);
        expect((JSON.parse(answer.text) as { errors?: { parameter?: string }[] }).errors?.map((error) => error.parameter), `${op.id}: ${answer.text}`).toContain(name);
        swept += 1;
      }
      if ((op.operation.parameters ?? []).some((parameter) => parameter.in === 'query')) {
        const answer = await sendAs(caller, token, op, { ...request, query: `${request.query ?? ''}${request.query === undefined ? '' : '&'}colour=red` });
        expectDeclared(op, answer);
        expectProblem(answer, [400], `${op.id}: unknown query parameter`);
        expect((JSON.parse(answer.text) as { errors?: { parameter?: string }[] }).errors?.map((error) => error.parameter), `${op.id}: ${answer.text}`).toContain('colour');
        swept += 1;
      }
    }
    expect(swept).toBeGreaterThan(30);
  });

  it("answers A's valid requests with 2xx, and no answer ever shows a secret", async () => {
    for (const op of ops) {
      const happy = happyOf(op);
      const request = happy.setup === undefined ? (happy.request ?? {}) : await happy.setup();
      const caller = callerOf(op);
      const answer = await sendAs(caller, caller === 'user' ? bearer(ids.userToken) : operatorHeaders(), op, request);
      expectDeclared(op, answer);
      const where = `${op.id} (${op.method.toUpperCase()} ${urlOf(op, request)})`;
      expect(answer.status, `${where}: ${answer.text.slice(0, 300)}`).toBe(happy.status);
      expectNone(answer.text, SECRETS, where);
    }
  });

  it("refuses the installation token on B's resources but for managing B as a domain, and shows it nothing else of B's", async () => {
    await sweepAgainst(OWNER_B, operatorHeaders(), CROSS_INSTALLATION);
  });
});

/**
 * Every operation, with the owner's ids in its path parameters and the `HAPPY` request retargeted
 * at the owner's resources, sent with another token (`caller`): refused (403 or 404 problem, the
 * same answer as for ids that exist nowhere) unless `allowed` says otherwise; no answer shows what
 * the caller did not send of the owner's (unless `allowed` says it may), nor a secret; afterwards
 * the owner's resources read back unchanged. Refusals go first, then what acts on the caller's own
 * domain (it creates the caller's own resources of the owner's names).
 */
async function sweepAgainst(owner: Owner, caller: Record<string, string>, allowed: Readonly<Record<string, Allowed>>): Promise<void> {
  const changesDomain = Object.values(allowed).some((entry) => entry.changesDomain === true);
  const before = await snapshotOf(owner, !changesDomain);
  const markers = markersOf(owner);
  const ordered = [...ops.filter((op) => allowed[op.id] === undefined), ...ops.filter((op) => allowed[op.id] !== undefined)];
  for (const op of ordered) {
    const where = `${op.id} (${op.method.toUpperCase()} ${op.path}) on ${owner.domain}'s`;
    const request = retarget(happyOf(op).request ?? {}, owner);
    const url = urlOf(op, request, owner);
    const answer = await send(op.method, url, caller, request.body, request.csv);
    expectDeclared(op, answer);
    const allowance = allowed[op.id];
    if (allowance === undefined) {
      expectProblem(answer, [403, 404], where);
      const nowhere = await send(op.method, unknownIn(url, owner), caller, request.body, request.csv);
      expect(`${nowhere.status} ${knownIn(nowhere.text, owner)}`, where).toBe(`${answer.status} ${answer.text}`);
    } else expect(allowance.statuses, `${where}: ${answer.text.slice(0, 300)}`).toContain(answer.status);
    if (answer.status >= 400) expect(answer.contentType, where).toBe('application/problem+json');
    if (allowance?.sees !== true) expectNone(answer.text, unsent(markers, url, request), where);
    expectNone(answer.text, SECRETS, where);
  }
  expect(await snapshotOf(owner, !changesDomain)).toEqual(before);
}

/** The body schema's first required member (or first member), and a value of the wrong type for it. */
function wrongMember(schema: Schema): { field: string; value: unknown } {
  const resolved = resolve(schema);
  const properties = resolved.properties ?? {};
  const field = resolved.required?.[0] ?? Object.keys(properties)[0];
  if (field === undefined) throw new Error(`a body schema without members: ${JSON.stringify(schema)}`);
  return { field, value: wrongValue(resolve(properties[field] ?? {})) };
}

function resolve(schema: Schema): Schema {
  if (schema.$ref === undefined) return schema;
  const found = doc.components.schemas[schema.$ref.replace('#/components/schemas/', '')];
  if (found === undefined) throw new Error(`unresolved ${schema.$ref}`);
  return resolve(found);
}

function typesOf(schema: Schema): string[] {
  const own = schema.type === undefined ? [] : [schema.type].flat();
  const alternatives = [...(schema.anyOf ?? []), ...(schema.oneOf ?? [])].flatMap((each) => typesOf(resolve(each)));
  const enumerated = (schema.enum ?? []).map((value) => typeof value);
  return [...own, ...alternatives, ...enumerated];
}

function wrongValue(schema: Schema): unknown {
  const types = typesOf(schema);
  if (!types.includes('number') && !types.includes('integer')) return 12_345;
  if (!types.includes('string')) return 'not a value of this type';
  return [{ wrong: true }];
}

describe('a domain deleted and created again', { timeout: 60_000 }, () => {
  it('starts with the settings of a new domain, none of its former tenant\'s', async () => {
    const first = bearer(((await ok(send('post', '/domains', operatorHeaders(), { name: 'sweep-again.example' }), 201)) as { operator_token: { token: string } }).operator_token.token);
    await ok(send('put', '/routing-settings', first, routingSettingsBody), 200);
    await ok(send('put', '/provisioning-settings', first, provisioningSettingsBody), 200);
    await ok(send('delete', '/domains/sweep-again.example', operatorHeaders()), 204);

    const again = bearer(((await ok(send('post', '/domains', operatorHeaders(), { name: 'sweep-again.example' }), 201)) as { operator_token: { token: string } }).operator_token.token);
    const never = bearer(((await ok(send('post', '/domains', operatorHeaders(), { name: 'sweep-new.example' }), 201)) as { operator_token: { token: string } }).operator_token.token);
    for (const path of ['/routing-settings', '/provisioning-settings']) {
      expect(await ok(send('get', path, again), 200), path).toEqual(await ok(send('get', path, never), 200));
    }
    // A user of the new tenant is configured with the new tenant's ICE servers (none), not the former one's TURN credentials.
    await ok(send('put', '/users/sweep-carl', again, { password: 'carls long password' }), 201);
    const provisioned = await send('post', '/users/sweep-carl/provisioning', again, { link: false });
    expect(provisioned.status).toBe(201);
    expectNone(provisioned.text, [A.ice, A.iceCredential], 'provisioning in the new life');
  });
});

/**
 * Where `value` departs from `schema` (OpenAPI 3.1, as the document uses it): types, required and
 * declared members, items, enums and alternatives. An object may carry only the members its schema
 * declares, unless the schema allows more (`additionalProperties`), so that the document tells a
 * client everything an answer holds.
 */
function schemaErrors(schema: Schema, value: unknown, at: string): string[] {
  const resolved = merged(resolve(schema));
  const alternatives = [...(resolved.anyOf ?? []), ...(resolved.oneOf ?? [])];
  if (alternatives.length > 0 && !alternatives.some((alternative) => schemaErrors(alternative, value, at).length === 0)) {
    return [`${at}: ${JSON.stringify(value)?.slice(0, 80)} matches none of its ${alternatives.length} alternatives`];
  }
  const types = resolved.type === undefined ? [] : [resolved.type].flat();
  if (types.length > 0 && !types.some((type) => typeMatches(type, value))) return [`${at}: ${JSON.stringify(value)?.slice(0, 80)} is not ${types.join(' or ')}`];
  if (resolved.enum !== undefined && !resolved.enum.includes(value)) return [`${at}: ${JSON.stringify(value)} is none of ${JSON.stringify(resolved.enum)}`];
  if (resolved.const !== undefined && value !== resolved.const) return [`${at}: ${JSON.stringify(value)} is not ${JSON.stringify(resolved.const)}`];
  const errors: string[] = [];
  if (Array.isArray(value) && resolved.items !== undefined) value.forEach((item, index) => errors.push(...schemaErrors(resolved.items!, item, `${at}/${index}`)));
  if (typeof value === 'object' && value !== null && !Array.isArray(value) && (resolved.properties !== undefined || types.includes('object'))) {
    const members = value as Record<string, unknown>;
    const declared = resolved.properties ?? {};
    for (const name of resolved.required ?? []) if (!(name in members)) errors.push(`${at}/${name}: missing`);
    for (const [name, member] of Object.entries(members)) {
      const memberSchema = declared[name] ?? (typeof resolved.additionalProperties === 'object' ? resolved.additionalProperties : undefined);
      if (memberSchema !== undefined) errors.push(...schemaErrors(memberSchema, member, `${at}/${name}`));
      else if (resolved.additionalProperties !== true) errors.push(`${at}/${name}: not in the document`);
    }
  }
  return errors;
}

/** An `allOf` as one schema: every part's members and requirements (an extended object). */
function merged(schema: Schema): Schema {
  if (schema.allOf === undefined) return schema;
  const parts = schema.allOf.map((part) => merged(resolve(part)));
  return {
    type: 'object',
    properties: Object.assign({}, ...parts.map((part) => part.properties ?? {})) as Record<string, Schema>,
    required: parts.flatMap((part) => part.required ?? []),
  };
}

function typeMatches(type: string, value: unknown): boolean {
  if (type === 'null') return value === null;
  if (type === 'integer') return Number.isInteger(value);
  if (type === 'array') return Array.isArray(value);
  if (type === 'object') return typeof value === 'object' && value !== null && !Array.isArray(value);
  return typeof value === type;
}
