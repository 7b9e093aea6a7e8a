/**
 * The outbound registration of one PbxLink as a pure state machine: `(state, event, context) ->
 * { state, send? }`. The PbxLink object keeps the state, arms its alarm for `nextAt`, sends what
 * the transition returns through a client transaction, and feeds back the responses, timeouts and
 * transport failures. Behaviour follows Asterisk's res_pjsip_outbound_registration.
 *
 * ```
 *            start                 timer
 *  stopped --------> delaying ----------------> sending <------------------------------+
 *     ^                                         |  |  ^ 401/407 not yet answered:       |
 *     |                                         |  |  | answer it (RFC 3261 §22.2);    |
 *     |                                         |  |  | stale nonce, 423: send again  |
 *     |                      2xx                |  |  +-------------------------------+
 *     |   +-------------------------------------+  |                                  |
 *     |   v               timer (expiry - 10 s)    | failure (a final non-2xx, a      |
 *     | registered ---------------------------> sending   timeout as 408, a transport |
 *     |   |  flow lost: backoff                    |      failure as 503)             |
 *     |   +----------------------> retrying -------|---------- timer -----------------+
 *     |                              ^  Retry-After, or temporal and retries left     |
 *     |                              +-------------+                                  |
 *     |                  403 + forbidden_retry_interval, other + fatal_retry_interval |
 *     |                                            +------> rejected --- timer -------+
 *     |                                            | otherwise, or retries used up
 *     |                                            +------> failed (until reconfigured)
 *     |   stop: registered or sending send expires=0 (RFC 3261 §10.2.2)
 *     +--------------------------------------- unregistering <-- stop
 * ```
 * `stop` from any other state goes straight to `stopped`; `start` from any state begins again.
 */
import { selectChallenge } from '../../shared/auth/index.ts';
import { getCSeq, getHeader, getHeaders, reasonPhrase, type SipRequest, type SipResponse } from '../../shared/message/index.ts';
import { authUsername, type LinkIdentity, type PbxLinkConfig } from './link-config.ts';
import { buildRegister, grantedExpires, type RegisterSession } from './register-request.ts';
import {
  initialDelayMs,
  isTemporal,
  jitteredDelayMs,
  reconnectDelayMs,
  refreshDelayMs,
  retryAfterSeconds,
  type Random,
} from './registration-policy.ts';

export type RegistrationPhase = 'stopped' | 'delaying' | 'sending' | 'registered' | 'retrying' | 'rejected' | 'failed' | 'unregistering';

/** What one attempt ended with: a status line, or a failure counted as one (RFC 3261 §8.1.3.1). */
export interface Outcome {
  readonly at: number;
  readonly status: number;
  readonly reason: string;
  /** What the status alone does not say: a transport error, retries used up, a missing password. */
  readonly detail?: string;
}

/** The REGISTER in flight. */
export interface Attempt {
  readonly cseq: number;
  readonly expires: number;
  /** What the request carries: nothing, credentials for an earlier challenge, or the answer to this attempt's challenge. */
  readonly credentials: 'none' | 'reused' | 'answer';
  readonly staleAnswered: boolean;
  readonly minExpiresRetried: boolean;
  /** A refresh of a binding in place: the link stays registered meanwhile. */
  readonly refresh: boolean;
}

export interface RegistrationState {
  readonly phase: RegistrationPhase;
  /** delaying, retrying, rejected: when the next REGISTER goes; registered: when the refresh goes. */
  readonly nextAt?: number;
  /** Asterisk's retry count: failures since the last 2xx that led to a retry. */
  readonly retries: number;
  /** registered: when the registrar drops the binding unless refreshed. */
  readonly expiresAt?: number;
  readonly registeredAt?: number;
  readonly last?: Outcome;
  readonly attempt?: Attempt;
  /** Flows lost in a row while registered, for the reconnect backoff. */
  readonly flowLosses: number;
  /** RFC 3261 §10.2.8: a Min-Expires learnt from a 423, asked for from then on. */
  readonly minExpires?: number;
  readonly session: RegisterSession;
}

export type RegistrationEvent =
  | { readonly type: 'start' }
  | { readonly type: 'stop' }
  | { readonly type: 'timer' }
  | { readonly type: 'response'; readonly response: SipResponse }
  /** The client transaction of `cseq` timed out (408) or its transport failed (503). */
  | { readonly type: 'no-response'; readonly cseq: number; readonly status: 408 | 503; readonly detail: string }
  /** The connection closed while the link was registered. */
  | { readonly type: 'flow-lost'; readonly detail: string };

export interface MachineContext {
  readonly config: PbxLinkConfig;
  readonly identity: LinkIdentity;
  readonly password: string | undefined;
  readonly now: number;
  readonly random: Random;
}

export interface Transition {
  readonly state: RegistrationState;
  readonly send?: SipRequest;
  /** The outcome this transition recorded, if any (for the log and the API's recent list). */
  readonly outcome?: Outcome;
}

export function initialRegistration(session: RegisterSession): RegistrationState {
  return { phase: 'stopped', retries: 0, flowLosses: 0, session };
}

export function transition(state: RegistrationState, event: RegistrationEvent, context: MachineContext): Transition {
  switch (event.type) {
    case 'start':
      return { state: { ...withoutTimers(state), phase: 'delaying', retries: 0, nextAt: context.now + initialDelayMs(context.config, context.random) } };
    case 'stop':
      return stop(state, context);
    case 'timer':
      return onTimer(state, context);
    case 'response':
      return onResponse(state, event.response, context);
    case 'no-response':
      if (state.attempt?.cseq !== event.cseq) return { state };
      return onFinal(state, { at: context.now, status: event.status, reason: reasonPhrase(event.status), detail: event.detail }, undefined, context);
    case 'flow-lost':
      return onFlowLost(state, event.detail, context);
  }
}

function withoutTimers(state: RegistrationState): RegistrationState {
  const { nextAt: _nextAt, attempt: _attempt, expiresAt: _expiresAt, ...rest } = state;
  return rest;
}

function stop(state: RegistrationState, context: MachineContext): Transition {
  const bound = state.phase === 'registered' || (state.phase === 'sending' && state.attempt !== undefined);
  if (!bound) return { state: { ...withoutTimers(state), phase: 'stopped', retries: 0 } };
  // RFC 3261 §10.2.2: an Expires of 0 removes the binding; credentials from the last challenge go
  // along so that the registrar need not challenge again.
  return send({ ...withoutTimers(state), phase: 'unregistering' }, context, { expires: 0, refresh: false, credentials: 'reuse' });
}

function onTimer(state: RegistrationState, context: MachineContext): Transition {
  if (state.nextAt === undefined || context.now < state.nextAt) return { state };
  switch (state.phase) {
    case 'delaying':
    case 'retrying':
    case 'rejected':
      return send({ ...withoutTimers(state), phase: 'sending' }, context, { expires: requestedExpires(state, context.config), refresh: false, credentials: 'reuse' });
    case 'registered': {
      const { nextAt: _nextAt, ...rest } = state;
      return send({ ...rest, phase: 'sending' }, context, { expires: requestedExpires(state, context.config), refresh: true, credentials: 'reuse' });
    }
    default:
      return { state };
  }
}

function requestedExpires(state: RegistrationState, config: PbxLinkConfig): number {
  return Math.max(config.expiration, state.minExpires ?? 0);
}

interface SendOptions {
  readonly expires: number;
  readonly refresh: boolean;
  /** `reuse`: credentials for the last challenge if there was one; `answer`: this challenge. */
  readonly credentials: 'reuse' | { readonly status: 401 | 407; readonly values: readonly string[] };
  readonly staleAnswered?: boolean;
  readonly minExpiresRetried?: boolean;
}

/** Builds and sends a REGISTER; with a challenge it cannot answer, returns the reason instead. */
function send(state: RegistrationState, context: MachineContext, options: SendOptions): Transition {
  const { config, identity, password } = context;
  let credentials: { status: 401 | 407; selected: NonNullable<RegisterSession['challenge']>['selected']; password: string } | undefined;
  let kind: Attempt['credentials'] = 'none';
  if (options.credentials === 'reuse') {
    const cached = state.session.challenge;
    if (cached !== undefined && password !== undefined) {
      credentials = { status: cached.status, selected: cached.selected, password };
      kind = 'reused';
    }
  } else {
    const username = authUsername(config);
    if (password === undefined || username === undefined) throw new RangeError('answering a challenge needs a username and a password');
    const selected = selectChallenge(options.credentials.values, { username, password });
    if (selected === undefined) throw new RangeError('no challenge this link can answer');
    credentials = { status: options.credentials.status, selected, password };
    kind = 'answer';
  }
  const built = buildRegister({ config, identity, session: state.session, expires: options.expires, credentials });
  const attempt: Attempt = {
    cseq: built.cseq,
    expires: options.expires,
    credentials: kind,
    staleAnswered: options.staleAnswered ?? false,
    minExpiresRetried: options.minExpiresRetried ?? false,
    refresh: options.refresh,
  };
  return { state: { ...state, session: built.session, attempt }, send: built.request };
}

/** Why a 401/407 cannot be answered, or undefined when it can. */
function unanswerable(response: SipResponse, context: MachineContext): string | undefined {
  const username = authUsername(context.config);
  if (username === undefined || context.password === undefined) return 'the registrar asks for credentials and the link has no username or password';
  const values = getHeaders(response, response.status === 401 ? 'WWW-Authenticate' : 'Proxy-Authenticate');
  if (selectChallenge(values, { username, password: context.password }) === undefined) return 'no challenge in the response uses an algorithm and qop sipedge can answer';
  return undefined;
}

function isStale(response: SipResponse): boolean {
  const values = getHeaders(response, response.status === 401 ? 'WWW-Authenticate' : 'Proxy-Authenticate');
  return values.some((value) => /(^|[\s,])stale\s*=\s*"?true"?/i.test(value));
}

function onResponse(state: RegistrationState, response: SipResponse, context: MachineContext): Transition {
  const attempt = state.attempt;
  if (attempt === undefined || getCSeq(response)?.seq !== attempt.cseq || response.status < 200) return { state };
  const status = response.status;
  const challengeValues = (): readonly string[] => getHeaders(response, status === 401 ? 'WWW-Authenticate' : 'Proxy-Authenticate');

  if (status === 401 || status === 407) {
    // RFC 3261 §22.2: a challenge to a request without this attempt's answer is answered once;
    // RFC 7616 §3.3: a stale nonce means the credentials were right, so it is answered once more.
    const firstChallenge = attempt.credentials !== 'answer';
    const staleAgain = !firstChallenge && !attempt.staleAnswered && isStale(response);
    if ((firstChallenge || staleAgain) && unanswerable(response, context) === undefined) {
      const { attempt: _attempt, ...rest } = state;
      return send(rest, context, {
        expires: attempt.expires,
        refresh: attempt.refresh,
        credentials: { status, values: challengeValues() },
        staleAnswered: staleAgain || attempt.staleAnswered,
        minExpiresRetried: attempt.minExpiresRetried,
      });
    }
    if (firstChallenge) {
      return onFinal(state, { at: context.now, status, reason: response.reason, detail: unanswerable(response, context) }, response, context);
    }
  }

  if (state.phase === 'unregistering') {
    const { attempt: _attempt, ...rest } = state;
    return recorded({ ...rest, phase: 'stopped', retries: 0 }, { at: context.now, status, reason: response.reason });
  }

  // RFC 3261 §10.2.8: 423 names the shortest interval the registrar accepts; ask again with it.
  const minExpires = Number(getHeader(response, 'Min-Expires'));
  if (status === 423 && !attempt.minExpiresRetried && Number.isSafeInteger(minExpires) && minExpires > attempt.expires) {
    const { attempt: _attempt, ...rest } = state;
    return send({ ...rest, minExpires }, context, { expires: minExpires, refresh: attempt.refresh, credentials: 'reuse', minExpiresRetried: true });
  }

  if (status >= 200 && status < 300) return onRegistered(state, response, attempt, context);
  return onFinal(state, { at: context.now, status, reason: response.reason }, response, context);
}

function onRegistered(state: RegistrationState, response: SipResponse, attempt: Attempt, context: MachineContext): Transition {
  const granted = grantedExpires(response, context.config, context.identity, attempt.expires);
  const outcome: Outcome = { at: context.now, status: response.status, reason: response.reason };
  const { attempt: _attempt, ...rest } = state;
  if (granted <= 0) {
    // The registrar kept no binding for us, though it said 2xx: try again later.
    const detail = 'the registrar answered 2xx but kept no binding for the Contact';
    return recorded({ ...rest, phase: 'retrying', nextAt: context.now + jitteredDelayMs(context.config.retry_interval || 60, context.random) }, { ...outcome, detail });
  }
  return recorded(
    {
      ...rest,
      phase: 'registered',
      retries: 0,
      // A refresh that succeeds proves the flow held; a first registration does not.
      flowLosses: attempt.refresh ? 0 : state.flowLosses,
      registeredAt: attempt.refresh ? (state.registeredAt ?? context.now) : context.now,
      expiresAt: context.now + granted * 1000,
      nextAt: context.now + refreshDelayMs(granted),
    },
    outcome,
  );
}

/**
 * A final failure (or a timeout / transport failure counted as one): Asterisk's
 * `handle_registration_response` after its 2xx branch, in the same order.
 */
function onFinal(state: RegistrationState, outcome: Outcome, response: SipResponse | undefined, context: MachineContext): Transition {
  const { config, now, random } = context;
  const { attempt: _attempt, expiresAt: _expiresAt, ...rest } = state;
  if (state.phase === 'unregistering') return recorded({ ...rest, phase: 'stopped', retries: 0 }, outcome);
  const retryAfter = retryAfterSeconds(response === undefined ? undefined : getHeader(response, 'Retry-After'));
  if (retryAfter !== undefined) {
    // RFC 3261 §21.5.4 / §20.33: the server says when; Asterisk does not count this as a retry.
    return recorded({ ...rest, phase: 'retrying', nextAt: now + retryAfter * 1000 }, outcome);
  }
  if (config.retry_interval > 0 && isTemporal(outcome.status, config)) {
    if (state.retries >= config.max_retries) {
      return recorded({ ...rest, phase: 'failed' }, { ...outcome, detail: joined(outcome.detail, `max_retries (${config.max_retries}) reached`) });
    }
    return recorded({ ...rest, phase: 'retrying', retries: state.retries + 1, nextAt: now + jitteredDelayMs(config.retry_interval, random) }, outcome);
  }
  if (outcome.status === 403 && config.forbidden_retry_interval > 0 && state.retries < config.max_retries) {
    return recorded({ ...rest, phase: 'rejected', retries: state.retries + 1, nextAt: now + jitteredDelayMs(config.forbidden_retry_interval, random) }, outcome);
  }
  if (config.fatal_retry_interval > 0 && state.retries < config.max_retries) {
    return recorded({ ...rest, phase: 'rejected', retries: state.retries + 1, nextAt: now + jitteredDelayMs(config.fatal_retry_interval, random) }, outcome);
  }
  return recorded({ ...rest, phase: 'failed' }, { ...outcome, detail: joined(outcome.detail, permanentReason(outcome.status, state, config)) });
}

function permanentReason(status: number, state: RegistrationState, config: PbxLinkConfig): string {
  if (state.retries > 0 && state.retries >= config.max_retries) return `max_retries (${config.max_retries}) reached`;
  if (isTemporal(status, config)) return 'retry_interval is 0';
  if (status === 401 || status === 407) return 'credentials refused, auth_rejection_permanent is on and fatal_retry_interval is 0';
  if (status === 403) return 'forbidden_retry_interval and fatal_retry_interval are 0';
  return 'fatal_retry_interval is 0';
}

function joined(first: string | undefined, second: string): string {
  return first === undefined ? second : `${first}; ${second}`;
}

function onFlowLost(state: RegistrationState, detail: string, context: MachineContext): Transition {
  if (state.phase !== 'registered') return { state };
  // Asterisk re-registers as soon as a reliable transport it registered over shuts down; the
  // registrar has usually dropped the binding with the connection (Kamailio's handle_lost_tcp).
  const losses = state.flowLosses + 1;
  const { expiresAt: _expiresAt, ...rest } = state;
  return recorded(
    { ...rest, phase: 'retrying', flowLosses: losses, nextAt: context.now + reconnectDelayMs(losses, context.random) },
    { at: context.now, status: 503, reason: reasonPhrase(503), detail: `connection lost: ${detail}` },
  );
}

function recorded(state: RegistrationState, outcome: Outcome): Transition {
  return { state: { ...state, last: outcome }, outcome };
}
