/**
 * The Routing object through its RPC, as the call path uses it: plans with limits taken and
 * released, slots that expire, the routing webhook and its fallback, inbound routing (mappings,
 * webhook, the user named by the Request-URI) and the inbound-cancel notification. Each test has
 * an object of its own (storage persists across a file's tests).
 */
import { env } from 'cloudflare:workers';
import { runInDurableObject } from 'cloudflare:test';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { NONCE_HEADER, RequestSigner, SIGNATURE_HEADER, TIMESTAMP_HEADER } from '../../shared/signing/index.ts';
import type { Routing } from '../../workers/routing/routing.ts';
import type { SettingsInput } from '../../workers/routing/routing-validation.ts';
import { DEFAULT_SETTINGS } from '../../workers/routing/routing-config.ts';
import type { InboundRequest, OutboundRequest } from '../../workers/routing/routing-contract.ts';
import { FakeClock } from '../support/fake-clock.ts';
import { createUserIn } from './support/domains.ts';
import { createUser } from './support/users.ts';

let serial = 0;
function freshRouting(): DurableObjectStub<Routing> {
  serial += 1;
  return env.ROUTING.get(env.ROUTING.idFromName(`routing-test-${serial}.example`));
}

const SECRET = 'routing-webhook-secret-0123';

const settings = (overrides: Partial<SettingsInput> = {}): SettingsInput => ({ ...DEFAULT_SETTINGS, webhooks: {}, ...overrides });

const call = (callId: string, dialled = '+4930123', user = 'alice'): OutboundRequest => ({ callId, user, dialled });

interface Seen {
  url: string;
  headers: Headers;
  body: string;
}

/** Replaces the object's clock and its outgoing fetch; `answer` gets each webhook request. */
async function install(stub: DurableObjectStub<Routing>, clock: FakeClock, answer?: (request: Request) => Promise<Response>): Promise<void> {
  await runInDurableObject(stub, (routing: Routing) => {
    routing.clock = clock;
    if (answer !== undefined) routing.fetcher = answer;
  });
}

describe('outbound plans through the Routing object', () => {
  it('plans over the registered links, in id order, with no rules', async () => {
    const routing = freshRouting();
    await routing.linkChanged('trunk-b', { can_terminate: true });
    await routing.linkChanged('trunk-a', { can_terminate: true });
    await routing.linkChanged('pbx', { can_terminate: false });
    expect(await routing.listLinks()).toEqual(['pbx', 'trunk-a', 'trunk-b']);
    const plan = await routing.planOutbound(call('c1'));
    expect(plan).toEqual({
      ok: true,
      attempts: [
        { linkId: 'trunk-a', number: '+4930123', callerId: { user: 'alice' } },
        { linkId: 'trunk-b', number: '+4930123', callerId: { user: 'alice' } },
      ],
    });
    await routing.linkChanged('trunk-a', undefined);
    expect(await routing.listLinks()).toEqual(['pbx', 'trunk-b']);
  });

  it('enforces the concurrent-call limit and frees the slot on release', async () => {
    const routing = freshRouting();
    await install(routing, new FakeClock(Date.UTC(2026, 0, 1)));
    await routing.linkChanged('trunk', { can_terminate: true });
    await expect(routing.putSettings(settings({ limits: { ...DEFAULT_SETTINGS.limits, user_concurrent_calls: 1 } }))).resolves.toMatchObject({ ok: true });
    expect((await routing.planOutbound(call('c1'))).ok).toBe(true);
    expect(await routing.planOutbound(call('c2'))).toEqual({ ok: false, status: 503, reason: 'Too many concurrent calls for this user' });
    expect((await routing.planOutbound(call('c3', '+4930123', 'bob'))).ok).toBe(true);
    await routing.releaseOutbound('c1');
    await routing.releaseOutbound('c1');
    expect((await routing.planOutbound(call('c2'))).ok).toBe(true);
  });

  it('frees a slot that was never released after 4 hours', async () => {
    const routing = freshRouting();
    const clock = new FakeClock(Date.UTC(2026, 0, 1));
    await install(routing, clock);
    await routing.linkChanged('trunk', { can_terminate: true });
    await routing.putSettings(settings({ limits: { ...DEFAULT_SETTINGS.limits, user_concurrent_calls: 1 } }));
    expect((await routing.planOutbound(call('c1'))).ok).toBe(true);
    clock.advance(4 * 60 * 60 * 1000 - 1);
    expect((await routing.planOutbound(call('c2'))).ok).toBe(false);
    clock.advance(1);
    expect((await routing.planOutbound(call('c2'))).ok).toBe(true);
  });

  it('counts attempts per minute, and a dry run counts nothing and takes no slot', async () => {
    const routing = freshRouting();
    const clock = new FakeClock(Date.UTC(2026, 0, 1));
    await install(routing, clock);
    await routing.linkChanged('trunk', { can_terminate: true });
    await routing.putSettings(settings({ limits: { ...DEFAULT_SETTINGS.limits, user_attempts_per_minute: 2, user_concurrent_calls: 1 } }));
    for (let i = 0; i < 5; i++) expect((await routing.dryRun(call('dry-run'))).plan.ok).toBe(true);
    expect((await routing.planOutbound(call('c1'))).ok).toBe(true);
    const dry = await routing.dryRun(call('dry-run'));
    expect(dry.plan.ok).toBe(true);
    expect(dry.limit).toEqual({ status: 503, reason: 'Too many concurrent calls for this user' });
    await routing.releaseOutbound('c1');
    expect((await routing.planOutbound(call('c2'))).ok).toBe(true);
    await routing.releaseOutbound('c2');
    expect(await routing.planOutbound(call('c3'))).toEqual({ ok: false, status: 503, reason: 'Too many call attempts per minute for this user' });
    clock.advance(60_001);
    expect((await routing.planOutbound(call('c3'))).ok).toBe(true);
  });

  it('refuses a denied destination with 403 and takes no slot for it', async () => {
    const routing = freshRouting();
    await routing.linkChanged('trunk', { can_terminate: true });
    await routing.putSettings(settings({ deny_patterns: ['\\+4990\\d*'], limits: { ...DEFAULT_SETTINGS.limits, user_concurrent_calls: 1 } }));
    expect(await routing.planOutbound(call('c1', '+49900123'))).toEqual({ ok: false, status: 403, reason: 'Destination not allowed' });
    expect((await routing.planOutbound(call('c2'))).ok).toBe(true);
  });
});

describe('the dry run', () => {
  it('gives the plan a real call gets, for any dialled number', async () => {
    const routing = freshRouting();
    await install(routing, new FakeClock(Date.UTC(2026, 0, 1)));
    await routing.linkChanged('trunk-a', { can_terminate: true });
    await routing.linkChanged('pbx', { can_terminate: false });
    await routing.putSettings(settings({ deny_patterns: ['(\\+|00)4990\\d*'], limits: { ...DEFAULT_SETTINGS.limits, user_attempts_per_minute: null, domain_attempts_per_minute: null } }));
    await routing.putRule({ id: 'de', priority: 1, pattern: '00(49\\d+)', rewrite: { strip: 2, prepend: '+' }, trunks: ['pbx', 'trunk-a'] });
    await routing.putRule({ id: 'local', priority: 2, pattern: '[1-9]\\d{2,5}', trunks: ['trunk-a'], caller_id: { user: '{did}' } });
    let serialCall = 0;
    await fc.assert(
      fc.asyncProperty(fc.string({ minLength: 1, maxLength: 16, unit: fc.constantFrom(...'0123456789+'.split('')) }), fc.constantFrom('0049', '00499', ''), async (number, prefix) => {
        const request = { ...call(`p${(serialCall += 1)}`, prefix + number), userAttributes: { did: '+4930100' } };
        const dry = await routing.dryRun({ ...request, callId: 'dry-run' });
        const real = await routing.planOutbound(request);
        await routing.releaseOutbound(request.callId);
        expect(real).toEqual(dry.plan);
      }),
      { numRuns: 40 },
    );
  });
});

describe('the routing webhook', () => {
  it('is sent the candidates, signed, and its choice is the plan', async () => {
    const routing = freshRouting();
    const seen: Seen[] = [];
    await install(routing, new FakeClock(Date.UTC(2026, 0, 1)), async (request) => {
      seen.push({ url: request.url, headers: request.headers, body: await request.text() });
      return Response.json({ trunks: ['trunk-b'] });
    });
    await routing.linkChanged('trunk-a', { can_terminate: true });
    await routing.linkChanged('trunk-b', { can_terminate: true });
    await routing.putSettings(settings({ webhooks: { routing: { url: 'https://hooks.example/route', secret: SECRET, timeout_ms: 2000 } } }));
    const plan = await routing.planOutbound({ ...call('c1'), country: 'DE', userAttributes: { group: 'sales' } });
    expect(plan.ok && plan.attempts.map((attempt) => attempt.linkId)).toEqual(['trunk-b']);
    const request = seen[0] as Seen;
    expect(JSON.parse(request.body)).toEqual({
      caller: 'alice',
      dialled: '+4930123',
      user: { username: 'alice', attributes: { group: 'sales' }, country: 'DE' },
      rule: null,
      candidates: [{ link_id: 'trunk-a', number: '+4930123' }, { link_id: 'trunk-b', number: '+4930123' }],
    });
    const parts = {
      method: 'POST',
      path: '/route',
      timestamp: Number(request.headers.get(TIMESTAMP_HEADER)),
      nonce: request.headers.get(NONCE_HEADER) ?? '',
      body: new TextEncoder().encode(request.body),
    };
    expect(await new RequestSigner(SECRET).verify(parts, request.headers.get(SIGNATURE_HEADER) ?? '')).toBe(true);
  });

  it('falls back to the rule\'s order when it does not answer in time, and the dry run says so', async () => {
    const routing = freshRouting();
    await install(routing, new FakeClock(Date.UTC(2026, 0, 1)), (request) => new Promise((_resolve, reject) => request.signal.addEventListener('abort', () => reject(request.signal.reason))));
    await routing.linkChanged('trunk-a', { can_terminate: true });
    await routing.linkChanged('trunk-b', { can_terminate: true });
    await routing.putSettings(settings({ webhooks: { routing: { url: 'https://hooks.example/route', secret: SECRET, timeout_ms: 150 } } }));
    const plan = await routing.planOutbound(call('c1'));
    expect(plan.ok && plan.attempts.map((attempt) => attempt.linkId)).toEqual(['trunk-a', 'trunk-b']);
    const dry = await routing.dryRun(call('dry-run'));
    expect(dry.explanation.notes).toContain("routing webhook failed (no answer within 150 ms): the rule's own trunk order is used");
  });
});

describe('inbound routing', () => {
  const invite = (requestUri: string, to = `<${requestUri}>`): InboundRequest => ({
    linkId: 'trunk-a',
    requestUri,
    to,
    from: '<sip:+4930999@pbx.example>;tag=1',
    headers: [{ name: 'X-Campaign', value: 'spring' }],
    sdp: 'v=0\r\n',
  });

  it('rings a mapped ring group', async () => {
    const routing = freshRouting();
    await routing.putMapping({ id: 'sales', number: '+4930555100', users: ['alice', 'bob'] });
    expect(await routing.routeInbound(invite('sip:+4930555100@edge.test'))).toEqual({ ok: true, users: ['alice', 'bob'] });
  });

  it('asks the inbound webhook, then falls back to the user the Request-URI names', async () => {
    const routing = freshRouting();
    const bodies: unknown[] = [];
    let answering = true;
    await install(routing, new FakeClock(Date.UTC(2026, 0, 1)), async (request) => {
      bodies.push(await request.json());
      return answering ? Response.json({ users: ['carol'] }) : new Response('down', { status: 503 });
    });
    await routing.putSettings(settings({ webhooks: { inbound: { url: 'https://hooks.example/inbound', secret: SECRET, timeout_ms: 2000 } } }));
    expect(await routing.routeInbound(invite('sip:reception@edge.test'))).toEqual({ ok: true, users: ['carol'] });
    expect(bodies[0]).toEqual({
      link: 'trunk-a',
      request_uri: 'sip:reception@edge.test',
      from: '<sip:+4930999@pbx.example>;tag=1',
      to: '<sip:reception@edge.test>',
      headers: [{ name: 'X-Campaign', value: 'spring' }],
      sdp: 'v=0\r\n',
    });
    // The user the Request-URI names is one of the Routing object's own domain (its name), never another domain's.
    await createUserIn(`routing-test-${serial}.example`, 'inbound-erin', 'erin password 1');
    await createUser('inbound-dave', 'dave password 1');
    answering = false;
    expect(await routing.routeInbound(invite('sip:inbound-erin@edge.test'))).toEqual({ ok: true, users: ['inbound-erin'] });
    expect(await routing.routeInbound(invite('sip:inbound-dave@edge.test'))).toEqual({ ok: false, status: 404, reason: 'Not Found' });
    expect(await routing.routeInbound(invite('sip:nobody-here@edge.test'))).toEqual({ ok: false, status: 404, reason: 'Not Found' });
  });

  it('notifies the inbound-cancel webhook', async () => {
    const routing = freshRouting();
    let notified: ((body: unknown) => void) | undefined;
    const received = new Promise((resolve) => (notified = resolve));
    await install(routing, new FakeClock(Date.UTC(2026, 0, 1)), async (request) => {
      notified?.({ url: request.url, body: await request.json() });
      return new Response(null, { status: 204 });
    });
    await routing.inboundCancelled(invite('sip:+4930555100@edge.test'));
    await routing.putSettings(settings({ webhooks: { inbound_cancel: { url: 'https://hooks.example/cancel', secret: SECRET, timeout_ms: 2000 } } }));
    await routing.inboundCancelled(invite('sip:+4930555100@edge.test'));
    expect(await received).toMatchObject({ url: 'https://hooks.example/cancel', body: { link: 'trunk-a', request_uri: 'sip:+4930555100@edge.test' } });
  });
});
