/**
 * The registrar's pure rules, without a runtime: what a run of refreshes costs in row writes, the
 * names a REGISTER's Request-URI may give the registrar, and the brute-force guard's states.
 */
import { describe, expect, it } from 'vitest';
import { parseMessage, type SipRequest } from '../../shared/message/index.ts';
import { DEFAULT_AUTH_GUARD_POLICY, OPEN_GUARD, assessGuard, recordFailure, recordSuccess, type AuthGuardState } from '../../workers/registrar/auth-guard.ts';
import type { Binding } from '../../workers/registrar/binding.ts';
import { processRegister } from '../../workers/registrar/register.ts';
import { checkRegister, registrarAliases } from '../../workers/registrar/register-checks.ts';
import { DEFAULT_REGISTRAR_POLICY } from '../../workers/registrar/registrar-policy.ts';
import type { Flow } from '../../workers/sip/flow.ts';

const FLOW: Flow = { connectionId: 'flow-1', transport: 'WSS', remoteAddress: '192.0.2.1', openedAt: 0 };

function register(cseq: number, expires: number, contact = '<sip:k3l1@abc.invalid;transport=ws;ob>;+sip.instance="<urn:uuid:1>";reg-id=1', requestUri = 'sip:demo.sipedge.local'): SipRequest {
  const message = parseMessage(
    [
      `REGISTER ${requestUri} SIP/2.0`,
      `Via: SIP/2.0/WSS abc.invalid;branch=z9hG4bK${cseq}`,
      'Max-Forwards: 70',
      'To: <sip:alice@demo.sipedge.local>',
      'From: <sip:alice@demo.sipedge.local>;tag=1',
      'Call-ID: registrar-rules@test',
      `CSeq: ${cseq} REGISTER`,
      `Contact: ${contact}`,
      `Expires: ${expires}`,
      'Supported: outbound, path',
      'Content-Length: 0',
      '',
      '',
    ].join('\r\n'),
  );
  if (message.kind !== 'request') throw new Error('not a request');
  return message;
}

describe('refresh cost', () => {
  it('writes about one row per twelve refreshes of an unchanged binding', () => {
    let bindings: readonly Binding[] = [];
    let writes = 0;
    const start = 1_800_000_000_000;
    for (let refresh = 0; refresh < 120; refresh += 1) {
      // A device with Expires 300 refreshing every 270 s (SIP.js refreshes at 99 %, JsSIP earlier).
      const outcome = processRegister({ request: register(refresh + 1, 300), flow: FLOW, now: start + refresh * 270_000, bindings, policy: DEFAULT_REGISTRAR_POLICY });
      expect(outcome.status).toBe(200);
      writes += outcome.written.length;
      bindings = outcome.bindings;
    }
    expect(writes).toBeGreaterThanOrEqual(120 / 14);
    expect(writes).toBeLessThanOrEqual(120 / 12 + 1);
  });

  it('writes at once when the flow changes, although the expiry is covered', () => {
    const first = processRegister({ request: register(1, 300), flow: FLOW, now: 0, bindings: [], policy: DEFAULT_REGISTRAR_POLICY });
    const moved = processRegister({ request: register(2, 300), flow: { ...FLOW, connectionId: 'flow-2' }, now: 1000, bindings: first.bindings, policy: DEFAULT_REGISTRAR_POLICY });
    expect(moved.written).toHaveLength(1);
    expect(moved.written[0]?.flow.connectionId).toBe('flow-2');
    expect(moved.bindings).toHaveLength(1);
  });

  it('keeps the bound at or after the exact expiry', () => {
    const outcome = processRegister({ request: register(1, 600), flow: FLOW, now: 0, bindings: [], policy: DEFAULT_REGISTRAR_POLICY });
    const binding = outcome.bindings[0];
    expect(binding?.expiresAt).toBe(600_000);
    expect(binding?.expiresBound).toBe(600_000 + 3_600_000);
  });

  it('refuses a reordered REGISTER of the same Call-ID (RFC 3261 §10.3 step 7)', () => {
    const first = processRegister({ request: register(5, 300), flow: FLOW, now: 0, bindings: [], policy: DEFAULT_REGISTRAR_POLICY });
    const older = processRegister({ request: register(4, 300), flow: FLOW, now: 1, bindings: first.bindings, policy: DEFAULT_REGISTRAR_POLICY });
    expect(older.status).toBe(400);
    expect(older.bindings).toBe(first.bindings);
  });

  it('refuses two contacts when one carries reg-id (RFC 5626 §6)', () => {
    const request = register(1, 300, '<sip:a@x.invalid>;+sip.instance="<urn:uuid:1>";reg-id=1, <sip:b@y.invalid>');
    expect(processRegister({ request, flow: FLOW, now: 0, bindings: [], policy: DEFAULT_REGISTRAR_POLICY }).status).toBe(400);
  });
});

describe("the registrar's names (RFC 3261 §10.3 step 1)", () => {
  const status = (requestUri: string, host: string | undefined, aliasesVar?: string): number => {
    const aliases = registrarAliases({ SIPEDGE_DOMAIN: 'demo.sipedge.local', SIPEDGE_REGISTRAR_ALIASES: aliasesVar });
    return checkRegister(register(1, 300, undefined, requestUri), { realm: 'demo.sipedge.local', host, aliases })?.status ?? 200;
  };

  it('accepts the domain and the host the WebSocket connected to, and refuses any other host with 404', () => {
    expect(status('sip:demo.sipedge.local', undefined)).toBe(200);
    expect(status('sip:EDGE.example.net:443;transport=ws', 'edge.example.net')).toBe(200);
    expect(status('sip:edge.example.net', 'other.example.net')).toBe(404);
    // A flow recorded before the host was: only the domain names the registrar.
    expect(status('sip:edge.example.net', undefined)).toBe(404);
  });

  it('accepts the names of SIPEDGE_REGISTRAR_ALIASES, comma-separated, spaces and case ignored', () => {
    const aliasesVar = ' sip.example.com, Edge.Example.NET ,';
    expect(registrarAliases({ SIPEDGE_DOMAIN: 'demo.sipedge.local', SIPEDGE_REGISTRAR_ALIASES: aliasesVar })).toEqual(['sip.example.com', 'edge.example.net']);
    expect(status('sip:sip.example.com', undefined, aliasesVar)).toBe(200);
    expect(status('sip:edge.example.net', 'other.example.net', aliasesVar)).toBe(200);
    expect(status('sip:registrar.elsewhere.example', 'other.example.net', aliasesVar)).toBe(404);
    expect(status('sip:sip.example.com', undefined, '')).toBe(404);
  });
});

describe('the brute-force guard', () => {
  it('goes open -> slowed (doubling) -> locked, and a success opens it', () => {
    let state: AuthGuardState = OPEN_GUARD;
    const verdicts: string[] = [];
    let now = 0;
    for (let failure = 1; failure <= 10; failure += 1) {
      const record = recordFailure(state, now);
      state = record.state;
      verdicts.push(record.verdict.kind === 'open' ? 'open' : `${record.verdict.kind} ${record.verdict.retryAfterSeconds}`);
      now = Math.max(now, state.blockedUntil);
    }
    expect(verdicts).toEqual(['open', 'open', 'open', 'open', 'slowed 1', 'slowed 2', 'slowed 4', 'slowed 8', 'slowed 16', 'locked 900']);
    expect(assessGuard(state, now + DEFAULT_AUTH_GUARD_POLICY.lockMs).kind).toBe('open');
    expect(recordSuccess(state)).toEqual(OPEN_GUARD);
  });

  it('forgets failures older than its window', () => {
    let state = OPEN_GUARD;
    for (let failure = 0; failure < 4; failure += 1) state = recordFailure(state, 0).state;
    const later = recordFailure(state, DEFAULT_AUTH_GUARD_POLICY.windowMs + 1);
    expect(later.state.failures).toBe(1);
    expect(later.verdict.kind).toBe('open');
  });
});
