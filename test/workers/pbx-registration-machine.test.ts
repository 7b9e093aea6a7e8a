/**
 * The outbound registration machine alone (pure functions, no object, no socket): Asterisk's
 * res_pjsip_outbound_registration rules, one scenario each.
 */
import { describe, expect, it } from 'vitest';
import { parseCredentials } from '../../shared/auth/index.ts';
import { createResponse, getCSeq, getHeader, type HeaderField, type SipRequest } from '../../shared/message/index.ts';
import type { PbxLinkConfig } from '../../workers/pbx/link-config.ts';
import { createRegisterSession } from '../../workers/pbx/register-request.ts';
import { initialRegistration, transition, type RegistrationEvent, type RegistrationState, type Transition } from '../../workers/pbx/registration-machine.ts';
import { recordOf, restoreRegistration } from '../../workers/pbx/registration-record.ts';
import { challenge } from './support/fake-pbx.ts';
import { IDENTITY, linkConfig } from './support/pbx-links.ts';

const START = 1_700_000_000_000;
const IDENTITY_REALM = 'pbx.example.com';

/** Drives the machine the way the PbxLink object does, remembering the last REGISTER sent. */
class Driver {
  state: RegistrationState = initialRegistration(createRegisterSession());
  now = START;
  sent: SipRequest[] = [];
  last: Transition | undefined;
  readonly config: PbxLinkConfig;
  readonly password: string | undefined;
  random = 0;

  /** `password` null: the link has none. */
  constructor(overrides: Partial<PbxLinkConfig> = {}, password: string | null = 'secret') {
    this.config = linkConfig(overrides);
    this.password = password ?? undefined;
  }

  apply(event: RegistrationEvent): Transition {
    const result = transition(this.state, event, { config: this.config, identity: IDENTITY, password: this.password, now: this.now, random: () => this.random });
    this.state = result.state;
    if (result.send !== undefined) this.sent.push(result.send);
    this.last = result;
    return result;
  }

  /** Moves the clock to the machine's next deadline and rings. */
  fire(): Transition {
    if (this.state.nextAt === undefined) throw new Error(`nothing armed in ${this.state.phase}`);
    this.now = Math.max(this.now, this.state.nextAt);
    return this.apply({ type: 'timer' });
  }

  get request(): SipRequest {
    const request = this.sent.at(-1);
    if (request === undefined) throw new Error('nothing sent');
    return request;
  }

  respond(status: number, headers: readonly HeaderField[] = [], reason?: string): Transition {
    return this.apply({ type: 'response', response: createResponse(this.request, status, reason, { toTag: 'reg', headers }) });
  }

  /** Start, initial delay, REGISTER, 401, answered REGISTER. */
  toChallengeAnswered(): void {
    this.apply({ type: 'start' });
    this.fire();
    this.respond(401, [challenge(IDENTITY_REALM, 'n1')]);
  }

  register(granted = 3600): void {
    this.toChallengeAnswered();
    this.respond(200, [{ name: 'Contact', value: `<sip:s@${IDENTITY.contactHost};transport=tcp>;expires=${granted}` }]);
  }
}

const seconds = (s: number) => s * 1000;

describe('the outbound registration machine', () => {
  it('waits a random initial delay below max_random_initial_delay before the first REGISTER', () => {
    const driver = new Driver({ max_random_initial_delay: 10 });
    driver.random = 0.5;
    driver.apply({ type: 'start' });
    expect(driver.state.phase).toBe('delaying');
    expect(driver.state.nextAt).toBe(START + seconds(5));
    expect(driver.apply({ type: 'timer' }).send).toBeUndefined();
    expect(driver.fire().send?.method).toBe('REGISTER');
  });

  it('sends a REGISTER per RFC 3261 §10.2: AOR in To and From, the registrar domain as Request-URI, a .invalid Contact and Via', () => {
    const driver = new Driver();
    driver.apply({ type: 'start' });
    const request = driver.fire().send!;
    expect(request.uri).toBe('sip:pbx.example.com');
    expect(getHeader(request, 'To')).toBe('<sip:alice@pbx.example.com>');
    expect(getHeader(request, 'From')).toMatch(/^<sip:alice@pbx\.example\.com>;tag=[0-9a-f]{16}$/);
    expect(getHeader(request, 'Contact')).toBe(`<sip:s@${IDENTITY.contactHost};transport=tcp>`);
    expect(getHeader(request, 'Via')).toMatch(new RegExp(`^SIP/2\\.0/TCP ${IDENTITY.contactHost};rport;branch=z9hG4bK[0-9a-f]{24}$`));
    expect(getHeader(request, 'Expires')).toBe('3600');
    expect(getHeader(request, 'CSeq')).toBe('1 REGISTER');
    expect(getHeader(request, 'Authorization')).toBeUndefined();
    expect(getHeader(request, 'User-Agent')).toMatch(/^sipedge\//);
  });

  it('answers a 401 with digest credentials of the auth id, same Call-ID, next CSeq (RFC 3261 §22.2)', () => {
    const driver = new Driver({ auth_id: 'alice-auth' });
    driver.toChallengeAnswered();
    const [first, second] = driver.sent;
    expect(getHeader(second!, 'Call-ID')).toBe(getHeader(first!, 'Call-ID'));
    expect(getCSeq(second!)?.seq).toBe(2);
    const credentials = parseCredentials(getHeader(second!, 'Authorization')!);
    expect(credentials.username).toBe('alice-auth');
    expect(credentials.uri).toBe('sip:pbx.example.com');
    expect(credentials.nc).toBe('00000001');
    expect(driver.state.phase).toBe('sending');
  });

  it('registers for the granted expiry and refreshes 10 s before it, reusing the nonce with the next nc', () => {
    const driver = new Driver();
    driver.register(1800);
    expect(driver.state.phase).toBe('registered');
    expect(driver.state.expiresAt).toBe(driver.now + seconds(1800));
    expect(driver.state.nextAt).toBe(driver.now + seconds(1790));
    const refresh = driver.fire().send!;
    expect(driver.state.phase).toBe('sending');
    expect(driver.state.attempt?.refresh).toBe(true);
    expect(parseCredentials(getHeader(refresh, 'Authorization')!).nc).toBe('00000002');
    driver.respond(200, [{ name: 'Expires', value: '1800' }]);
    expect(driver.state.phase).toBe('registered');
  });

  it('refreshes half-way through a short expiry rather than at once', () => {
    const driver = new Driver({ expiration: 12 });
    driver.register(12);
    expect(driver.state.nextAt).toBe(driver.now + seconds(6));
  });

  it('fails for good when the answered credentials are refused and auth_rejection_permanent is on', () => {
    const driver = new Driver();
    driver.toChallengeAnswered();
    driver.respond(401, [challenge(IDENTITY_REALM, 'n2')]);
    expect(driver.state.phase).toBe('failed');
    expect(driver.state.last).toMatchObject({ status: 401, reason: 'Unauthorized' });
    expect(driver.state.last?.detail).toContain('auth_rejection_permanent');
    expect(driver.state.nextAt).toBeUndefined();
  });

  it('retries refused credentials at fatal_retry_interval when auth_rejection_permanent is on (Asterisk note)', () => {
    const driver = new Driver({ fatal_retry_interval: 30 });
    driver.toChallengeAnswered();
    driver.respond(401, [challenge(IDENTITY_REALM, 'n2')]);
    expect(driver.state.phase).toBe('rejected');
    expect(driver.state.nextAt).toBe(driver.now + seconds(30));
    expect(driver.state.retries).toBe(1);
  });

  it('treats refused credentials as temporal (retry_interval) when auth_rejection_permanent is off', () => {
    const driver = new Driver({ auth_rejection_permanent: false });
    driver.toChallengeAnswered();
    driver.respond(401, [challenge(IDENTITY_REALM, 'n2')]);
    expect(driver.state.phase).toBe('retrying');
    expect(driver.state.nextAt).toBe(driver.now + seconds(60));
  });

  it('answers a stale nonce once more (RFC 7616 §3.3) before counting a refusal', () => {
    const driver = new Driver();
    driver.toChallengeAnswered();
    const stale = driver.respond(401, [challenge(IDENTITY_REALM, 'n2', ', stale=true')]);
    expect(getHeader(stale.send!, 'Authorization')).toContain('nonce="n2"');
    driver.respond(401, [challenge(IDENTITY_REALM, 'n3', ', stale=true')]);
    expect(driver.state.phase).toBe('failed');
  });

  it('fails at once without a password to answer a challenge', () => {
    const driver = new Driver({}, null);
    driver.apply({ type: 'start' });
    driver.fire();
    driver.respond(401, [challenge(IDENTITY_REALM, 'n1')]);
    expect(driver.state.phase).toBe('failed');
    expect(driver.state.last?.detail).toContain('no username or password');
  });

  it('stops at 403 when forbidden_retry_interval is 0 (RFC 3261 §21.4.4: do not repeat)', () => {
    const driver = new Driver();
    driver.apply({ type: 'start' });
    driver.fire();
    driver.respond(403);
    expect(driver.state.phase).toBe('failed');
    expect(driver.state.last?.detail).toContain('forbidden_retry_interval');
  });

  it('retries 403 at forbidden_retry_interval, jittered down by at most a tenth, up to max_retries', () => {
    const driver = new Driver({ forbidden_retry_interval: 20, max_retries: 2 });
    driver.random = 0.999;
    driver.apply({ type: 'start' });
    driver.fire();
    driver.respond(403);
    expect(driver.state.phase).toBe('rejected');
    const wait = driver.state.nextAt! - driver.now;
    expect(wait).toBeGreaterThanOrEqual(seconds(18));
    expect(wait).toBeLessThanOrEqual(seconds(20));
    driver.fire();
    driver.respond(403);
    expect(driver.state.retries).toBe(2);
    driver.fire();
    driver.respond(403);
    expect(driver.state.phase).toBe('failed');
    expect(driver.state.last?.detail).toContain('max_retries (2) reached');
  });

  it('retries temporal failures (503) at retry_interval and gives up after max_retries', () => {
    const driver = new Driver({ retry_interval: 5, max_retries: 2 });
    driver.apply({ type: 'start' });
    for (const expected of [1, 2]) {
      driver.fire();
      driver.respond(503);
      expect(driver.state).toMatchObject({ phase: 'retrying', retries: expected });
      expect(driver.state.nextAt).toBe(driver.now + seconds(5));
    }
    driver.fire();
    driver.respond(503);
    expect(driver.state.phase).toBe('failed');
    expect(driver.state.last?.detail).toContain('max_retries (2) reached');
  });

  it('follows Retry-After without counting a retry (RFC 3261 §20.33)', () => {
    const driver = new Driver();
    driver.apply({ type: 'start' });
    driver.fire();
    driver.respond(503, [{ name: 'Retry-After', value: '7 (maintenance);duration=60' }]);
    expect(driver.state).toMatchObject({ phase: 'retrying', retries: 0 });
    expect(driver.state.nextAt).toBe(driver.now + seconds(7));
  });

  it('sends fatal responses (404) to fatal_retry_interval, or stops when it is 0', () => {
    const stopped = new Driver();
    stopped.apply({ type: 'start' });
    stopped.fire();
    stopped.respond(404);
    expect(stopped.state.phase).toBe('failed');
    const retried = new Driver({ fatal_retry_interval: 120 });
    retried.apply({ type: 'start' });
    retried.fire();
    retried.respond(404);
    expect(retried.state).toMatchObject({ phase: 'rejected', retries: 1 });
  });

  it('treats 503 as fatal when retry_interval is 0, as Asterisk does', () => {
    const driver = new Driver({ retry_interval: 0 });
    driver.apply({ type: 'start' });
    driver.fire();
    driver.respond(503);
    expect(driver.state.phase).toBe('failed');
    expect(driver.state.last?.detail).toContain('retry_interval is 0');
  });

  it('counts a transaction timeout as 408 and a transport failure as 503 (RFC 3261 §8.1.3.1)', () => {
    const driver = new Driver({ retry_interval: 5 });
    driver.apply({ type: 'start' });
    driver.fire();
    driver.apply({ type: 'no-response', cseq: driver.state.attempt!.cseq, status: 408, detail: 'Timer F' });
    expect(driver.state).toMatchObject({ phase: 'retrying', last: { status: 408, reason: 'Request Timeout', detail: 'Timer F' } });
    driver.fire();
    driver.apply({ type: 'no-response', cseq: driver.state.attempt!.cseq, status: 503, detail: 'connection refused' });
    expect(driver.state).toMatchObject({ phase: 'retrying', retries: 2, last: { status: 503, detail: 'connection refused' } });
  });

  it('asks again with Min-Expires after 423 (RFC 3261 §10.2.8), and keeps asking for it', () => {
    const driver = new Driver({ expiration: 60 });
    driver.apply({ type: 'start' });
    driver.fire();
    const again = driver.respond(423, [{ name: 'Min-Expires', value: '300' }]);
    expect(getHeader(again.send!, 'Expires')).toBe('300');
    driver.respond(200, [{ name: 'Expires', value: '300' }]);
    expect(driver.state.phase).toBe('registered');
    expect(getHeader(driver.fire().send!, 'Expires')).toBe('300');
  });

  it('ignores responses to earlier requests and provisional responses', () => {
    const driver = new Driver();
    driver.toChallengeAnswered();
    const stale = createResponse(driver.sent[0]!, 200, undefined, { toTag: 'x' });
    expect(driver.apply({ type: 'response', response: stale }).state.phase).toBe('sending');
    expect(driver.respond(100).state.phase).toBe('sending');
  });

  it('backs off exponentially, with jitter, when the connection of a registered link is lost', () => {
    const driver = new Driver();
    driver.register();
    driver.apply({ type: 'flow-lost', detail: 'reset' });
    expect(driver.state.phase).toBe('retrying');
    expect(driver.state.nextAt! - driver.now).toBe(500);
    expect(driver.state.last?.detail).toBe('connection lost: reset');
    driver.fire();
    driver.respond(200, [{ name: 'Expires', value: '3600' }]);
    driver.apply({ type: 'flow-lost', detail: 'reset' });
    expect(driver.state.nextAt! - driver.now).toBe(1000);
    driver.random = 0.999;
    driver.fire();
    driver.respond(200, [{ name: 'Expires', value: '3600' }]);
    driver.apply({ type: 'flow-lost', detail: 'reset' });
    expect(driver.state.nextAt! - driver.now).toBeLessThanOrEqual(4000);
    expect(driver.state.nextAt! - driver.now).toBeGreaterThan(3900);
  });

  it('unregisters with expires=0 and the last credentials when stopped while registered (RFC 3261 §10.2.2)', () => {
    const driver = new Driver();
    driver.register();
    const unregister = driver.apply({ type: 'stop' }).send!;
    expect(driver.state.phase).toBe('unregistering');
    expect(getHeader(unregister, 'Expires')).toBe('0');
    expect(getHeader(unregister, 'Authorization')).toContain('nonce="n1"');
    driver.respond(200);
    expect(driver.state.phase).toBe('stopped');
  });

  it('stops without a request when nothing is registered', () => {
    const driver = new Driver();
    driver.apply({ type: 'start' });
    driver.fire();
    driver.respond(503);
    expect(driver.apply({ type: 'stop' }).send).toBeUndefined();
    expect(driver.state.phase).toBe('stopped');
  });

  it('writes the options into the REGISTER: outbound, path, line, Contact parameters, User-Agent, outbound proxy', () => {
    const driver = new Driver({
      support_outbound: true,
      support_path: true,
      line: true,
      contact_header_params: ';x-tenant=7',
      user_agent: 'Office PBX link',
      outbound_proxy: 'sip:proxy.example.com:5070',
    });
    driver.apply({ type: 'start' });
    const request = driver.fire().send!;
    expect(getHeader(request, 'Contact')).toBe(
      `<sip:s@${IDENTITY.contactHost};transport=tcp;line=${IDENTITY.line}>;reg-id=1;+sip.instance="<urn:uuid:${IDENTITY.instanceId}>";x-tenant=7`,
    );
    expect(getHeader(request, 'Supported')).toBe('path, outbound');
    expect(getHeader(request, 'User-Agent')).toBe('Office PBX link');
    expect(getHeader(request, 'Route')).toBe('<sip:proxy.example.com:5070;lr>');
  });
});

describe('the registration record (what survives a restart)', () => {
  it('does not change when a refresh succeeds, so a refresh writes nothing', () => {
    const driver = new Driver();
    driver.register();
    const before = JSON.stringify(recordOf(driver.state));
    driver.fire();
    expect(JSON.stringify(recordOf(driver.state))).toBe(before);
    driver.respond(200, [{ name: 'Expires', value: '3600' }]);
    expect(JSON.stringify(recordOf(driver.state))).toBe(before);
  });

  it('brings an active registration back as an immediate attempt, and a failure as it was', () => {
    const driver = new Driver();
    driver.register();
    const resumed = restoreRegistration(recordOf(driver.state), createRegisterSession(), START + 5);
    expect(resumed).toMatchObject({ phase: 'retrying', nextAt: START + 5 });
    const failed = new Driver();
    failed.apply({ type: 'start' });
    failed.fire();
    failed.respond(403);
    expect(restoreRegistration(recordOf(failed.state), createRegisterSession(), START)).toMatchObject({ phase: 'failed', last: { status: 403 } });
  });
});
