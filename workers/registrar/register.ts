/**
 * The registrar's REGISTER processing (RFC 3261 §10.3 steps 5-8, RFC 5626 §6, RFC 3327 §5.3) as a
 * pure function over the bindings of one address-of-record. Authentication (steps 3-4) comes
 * first, in `registrar-auth.ts`; the caller persists `written` and `removed`.
 */
import { hasParam, parseNameAddr } from '../../shared/grammar/index.ts';
import {
  SipParseError,
  getCSeq,
  getCallId,
  getContacts,
  getExpires,
  getHeaders,
  getOptionTags,
  getVia,
  type HeaderField,
  type SipRequest,
} from '../../shared/message/index.ts';
import type { Flow } from '../sip/flow.ts';
import { ContactError, readContact, sameStoredBinding, secondsLeft, type Binding, type ContactRequest } from './binding.ts';
import { expiryBound, type RegistrarPolicy } from './registrar-policy.ts';

export interface RegisterInput {
  readonly request: SipRequest;
  readonly flow: Flow;
  readonly now: number;
  /** The AOR's bindings as known, expired ones included. */
  readonly bindings: readonly Binding[];
  readonly policy: RegistrarPolicy;
  /** RFC 5627: the GRUUs of a binding with an instance, for a REGISTER with `Supported: gruu`. */
  readonly gruus?: (binding: Binding) => Gruus;
}

/** A device's public and temporary GRUU (RFC 5627 §3.1, §3.2). */
export interface Gruus {
  readonly pub: string;
  readonly temp: string;
}

export interface RegisterOutcome {
  readonly status: number;
  /** A Reason-Phrase other than the standard one (400 names its problem, RFC 3261 §21.4.1). */
  readonly reason?: string;
  /** Header fields the response carries besides the copied ones. */
  readonly headers: readonly HeaderField[];
  /** The bindings after the request: unexpired only. Unchanged on failure. */
  readonly bindings: readonly Binding[];
  /** Rows to insert or replace. A refresh that changes nothing stored is not in here. */
  readonly written: readonly Binding[];
  /** Keys of rows to delete (unregistered, or found expired). */
  readonly removed: readonly string[];
}

export function processRegister(input: RegisterInput): RegisterOutcome {
  const { request, now, policy } = input;
  const fail = (status: number, reason?: string, headers: HeaderField[] = []): RegisterOutcome => ({
    status,
    reason,
    headers,
    bindings: input.bindings,
    written: [],
    removed: [],
  });

  let contacts: ReturnType<typeof getContacts>;
  let headerExpires: number | undefined;
  try {
    contacts = getContacts(request);
    headerExpires = getExpires(request);
  } catch (error) {
    if (error instanceof SipParseError) return fail(400, error.reason);
    throw error;
  }
  const callId = getCallId(request) ?? '';
  const cseq = getCSeq(request)?.seq ?? 0;
  const supported = getOptionTags(request, 'Supported').map((tag) => tag.toLowerCase());

  // RFC 3327 §5.3: Path is stored and returned only for a UA that said it supports it.
  const path = getHeaders(request, 'Path');
  if (path.length > 0 && !supported.includes('path')) {
    return fail(420, undefined, [{ name: 'Unsupported', value: 'path' }, ...path.map((value) => ({ name: 'Path', value }))]);
  }

  const current = new Map<string, Binding>();
  const removed: string[] = [];
  for (const binding of input.bindings) {
    if (binding.expiresAt > now) current.set(binding.key, binding);
    else removed.push(binding.key);
  }

  if (contacts === '*') {
    // RFC 3261 §10.3 step 6: `*` removes every binding, except one the same Call-ID already
    // updated with a CSeq at least as high (a reordered older request).
    for (const binding of [...current.values()]) {
      if (binding.callId === callId && cseq <= binding.cseq) continue;
      current.delete(binding.key);
      removed.push(binding.key);
    }
    return succeed(input, current, [], removed, false, path);
  }
  // RFC 3261 §10.3 step 8 (and §10.2.3): no Contact is a query; the 200 OK lists the bindings.
  if (contacts.length === 0) return succeed(input, current, [], removed, false, path);

  let wanted: ContactRequest[];
  try {
    wanted = contacts.map(readContact);
  } catch (error) {
    if (error instanceof ContactError) return fail(400, error.message);
    throw error;
  }
  // RFC 5626 §6: a REGISTER carrying reg-id registers exactly one flow.
  if (wanted.length > 1 && wanted.some((contact) => contact.regId !== undefined)) {
    return fail(400, 'a REGISTER with reg-id must carry a single Contact (RFC 5626 section 6)');
  }

  const intervals = wanted.map((contact) => contact.expires ?? headerExpires ?? policy.defaultExpires);
  // RFC 3261 §10.3 step 7: a non-zero interval below the minimum is refused as a whole.
  if (intervals.some((seconds) => seconds > 0 && seconds < policy.minExpires)) {
    return fail(423, undefined, [{ name: 'Min-Expires', value: String(policy.minExpires) }]);
  }
  // RFC 3261 §10.3 step 7: the same Call-ID with a CSeq not above the stored one fails the request.
  for (const contact of wanted) {
    const existing = current.get(contact.key);
    if (existing !== undefined && existing.callId === callId && cseq <= existing.cseq) {
      return fail(400, `CSeq ${cseq} is not above ${existing.cseq} for this Call-ID`);
    }
  }

  // RFC 5626 §6: outbound applies when the UA supports it, names its instance and flow, and the
  // registrar is its first hop (one Via: the edge terminates the WebSocket) or the edge proxy
  // before it marked its Path with `ob`.
  const firstHop = getVia(request).length === 1 || pathHasOb(path[0]);
  const outboundWanted = supported.includes('outbound') && firstHop;

  const written: Binding[] = [];
  let outboundUsed = false;
  wanted.forEach((contact, index) => {
    const seconds = intervals[index] ?? policy.defaultExpires;
    const existing = current.get(contact.key);
    if (seconds === 0) {
      if (existing !== undefined) {
        current.delete(contact.key);
        removed.push(contact.key);
      }
      return;
    }
    const interval = Math.min(seconds, policy.maxExpires);
    const expiresAt = now + interval * 1000;
    const outbound = outboundWanted && contact.instance !== undefined && contact.regId !== undefined;
    outboundUsed ||= outbound;
    const next: Binding = {
      key: contact.key,
      contact: contact.contact,
      ...(contact.instance === undefined ? {} : { instance: contact.instance }),
      ...(contact.regId === undefined ? {} : { regId: contact.regId }),
      outbound,
      flow: input.flow,
      callId,
      cseq,
      path,
      registeredAt: existing?.registeredAt ?? now,
      expiresAt,
      expiresBound: 0,
    };
    if (existing !== undefined && sameStoredBinding(existing, next) && expiresAt <= existing.expiresBound) {
      // A plain refresh: storage already covers the new expiry.
      current.set(contact.key, { ...next, expiresBound: existing.expiresBound });
      return;
    }
    const stored = { ...next, expiresBound: expiryBound(expiresAt, interval, policy) };
    current.set(contact.key, stored);
    written.push(stored);
  });

  if (current.size > policy.maxBindings) {
    return fail(403, `more than ${policy.maxBindings} contacts for one address-of-record`);
  }
  const writtenKeys = new Set(written.map((binding) => binding.key));
  return succeed(input, current, written, removed.filter((key) => !writtenKeys.has(key)), outboundUsed, path);
}

function succeed(
  input: RegisterInput,
  current: ReadonlyMap<string, Binding>,
  written: readonly Binding[],
  removed: readonly string[],
  outbound: boolean,
  path: readonly string[],
): RegisterOutcome {
  const bindings = [...current.values()];
  // RFC 5627 §5.4: GRUUs for every binding with an instance, when the UA said it supports them.
  const gruus = input.gruus !== undefined && getOptionTags(input.request, 'Supported').some((tag) => tag.toLowerCase() === 'gruu') ? input.gruus : undefined;
  return { status: 200, headers: okHeaders(bindings, input.now, outbound, path, gruus), bindings, written, removed };
}

/** RFC 3261 §10.3 step 8: every current contact with its `expires`, and a Date. */
function okHeaders(bindings: readonly Binding[], now: number, outbound: boolean, path: readonly string[], gruus: ((binding: Binding) => Gruus) | undefined): HeaderField[] {
  const headers: HeaderField[] = bindings.map((binding) => ({ name: 'Contact', value: `${binding.contact}${gruuParams(binding, gruus)};expires=${secondsLeft(binding, now)}` }));
  // RFC 5626 §6: the registrar that applied outbound says so with Require: outbound.
  if (outbound) headers.push({ name: 'Require', value: 'outbound' });
  headers.push({ name: 'Supported', value: 'outbound, path, gruu' });
  // RFC 3327 §5.3: the Path the registrar stored is returned in the 200 OK.
  for (const value of path) headers.push({ name: 'Path', value });
  headers.push({ name: 'Date', value: new Date(now).toUTCString() });
  return headers;
}

function gruuParams(binding: Binding, gruus: ((binding: Binding) => Gruus) | undefined): string {
  if (gruus === undefined || binding.instance === undefined) return '';
  const { pub, temp } = gruus(binding);
  return `;pub-gruu="${pub}";temp-gruu="${temp}"`;
}

function pathHasOb(value: string | undefined): boolean {
  if (value === undefined) return false;
  try {
    const top = parseNameAddr(value);
    return top.uri.kind === 'sip' && hasParam(top.uri.params, 'ob');
  } catch {
    return false;
  }
}
