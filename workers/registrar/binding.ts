/**
 * A registration binding (RFC 3261 §10): one contact of an address-of-record, with the flow it
 * came over, as plain JSON.
 *
 * Identity (what a later REGISTER updates or removes):
 * - RFC 5626 §6: with `+sip.instance` and `reg-id` under outbound, the pair (instance, reg-id);
 * - RFC 5627 §3.2: with `+sip.instance` alone, the instance: a UA keeps it across restarts while
 *   its Contact URI changes;
 * - otherwise the Contact URI, compared per RFC 3261 §19.1.4 (see `uriKey`).
 */
import { getParam, paramValue, serializeNameAddr, unescapeUri, unquote, withoutParam, type NameAddr, type Uri } from '../../shared/grammar/index.ts';
import type { Flow } from '../sip/flow.ts';

export interface Binding {
  readonly key: string;
  /** The Contact value as registered, without `expires`: written back in every 200 OK. */
  readonly contact: string;
  /** The `+sip.instance` value, unquoted (`<urn:uuid:...>`). */
  readonly instance?: string;
  readonly regId?: number;
  /** Registered under RFC 5626 outbound rules (the 200 OK then carries `Require: outbound`). */
  readonly outbound: boolean;
  /** The flow (WebSocket) requests for this contact go out on: its Via and Contact hosts are `.invalid`. */
  readonly flow: Flow;
  readonly callId: string;
  readonly cseq: number;
  /** RFC 3327 Path values, topmost first, used as the route set toward the contact. */
  readonly path: readonly string[];
  /** When this binding was first created (ms). */
  readonly registeredAt: number;
  /** The exact expiry (ms). Kept in memory only; after a restart it is `expiresBound`. */
  readonly expiresAt: number;
  /**
   * What storage knows: a time at or after `expiresAt`. A refresh that keeps `expiresAt` within it
   * writes nothing, which keeps steady-state refreshes free (DESIGN.md, cost).
   */
  readonly expiresBound: number;
}

/** One Contact of a REGISTER, read into what a binding needs. */
export interface ContactRequest {
  readonly key: string;
  readonly contact: string;
  readonly instance?: string;
  readonly regId?: number;
  /** The `expires` parameter, when present. */
  readonly expires?: number;
}

export class ContactError extends Error {
  override readonly name = 'ContactError';
}

/** RFC 3261 §20.19 delta-seconds, at most 2**32-1. */
export function readDeltaSeconds(text: string): number | undefined {
  if (!/^[0-9]{1,10}$/.test(text)) return undefined;
  const value = Number(text);
  return value <= 0xffffffff ? value : undefined;
}

export function readContact(value: NameAddr): ContactRequest {
  const expiresText = paramValue(value.params, 'expires');
  const expires = expiresText === undefined ? undefined : readDeltaSeconds(expiresText);
  if (expiresText !== undefined && expires === undefined) throw new ContactError(`Contact expires '${expiresText}' is not delta-seconds`);
  if (getParam(value.params, 'expires') !== undefined && expiresText === undefined) throw new ContactError('Contact expires has no value');

  const instanceText = paramValue(value.params, '+sip.instance');
  const instance = instanceText === undefined ? undefined : instanceText.startsWith('"') ? unquote(instanceText) : instanceText;
  const regIdText = paramValue(value.params, 'reg-id');
  let regId: number | undefined;
  if (regIdText !== undefined) {
    // RFC 5626 §4.2: reg-id = 1*DIGIT, "1 to 2**31-1".
    if (!/^[0-9]{1,10}$/.test(regIdText) || Number(regIdText) < 1 || Number(regIdText) > 0x7fffffff) {
      throw new ContactError(`reg-id '${regIdText}' is not 1 to 2^31-1`);
    }
    regId = Number(regIdText);
  }
  const contact = serializeNameAddr({ ...value, params: withoutParam(value.params, 'expires') });
  return { key: contactKey(value.uri, instance, regId), contact, instance, regId, expires };
}

function contactKey(uri: Uri, instance: string | undefined, regId: number | undefined): string {
  if (instance !== undefined) return regId === undefined ? `instance ${instance}` : `instance ${instance} reg-id ${regId}`;
  return `uri ${uriKey(uri)}`;
}

/**
 * A comparison key for RFC 3261 §19.1.4: scheme and host case-insensitive, user and password
 * case-sensitive, %-escapes equal to their characters, URI parameters in any order with names
 * and values lower-cased (a simplification: RFC 3261 treats unknown parameters more loosely).
 */
export function uriKey(uri: Uri): string {
  switch (uri.kind) {
    case 'absolute':
      return `${uri.scheme.toLowerCase()}:${uri.opaque}`;
    case 'tel':
      return `tel:${uri.number}`;
    case 'sip': {
      const user = uri.user === undefined ? '' : `${decode(uri.user)}${uri.password === undefined ? '' : `:${decode(uri.password)}`}@`;
      const params = uri.params
        .map((param) => `${param.name.toLowerCase()}=${(param.value ?? '').toLowerCase()}`)
        .sort()
        .join(';');
      return `${uri.scheme}:${user}${uri.host.toLowerCase()}:${uri.port ?? ''};${params}`;
    }
  }
}

function decode(text: string): string {
  return unescapeUri(text);
}

/** The bindings that have not expired at `now`. */
export function liveBindings(bindings: Iterable<Binding>, now: number): Binding[] {
  return [...bindings].filter((binding) => binding.expiresAt > now);
}

/** Seconds left, rounded up, as the 200 OK's `expires` parameter states them. */
export function secondsLeft(binding: Binding, now: number): number {
  return Math.max(0, Math.ceil((binding.expiresAt - now) / 1000));
}

/** True when two bindings differ only in what is kept out of storage (CSeq, exact expiry). */
export function sameStoredBinding(a: Binding, b: Binding): boolean {
  return (
    a.key === b.key &&
    a.contact === b.contact &&
    a.instance === b.instance &&
    a.regId === b.regId &&
    a.outbound === b.outbound &&
    a.flow.connectionId === b.flow.connectionId &&
    a.callId === b.callId &&
    a.path.length === b.path.length &&
    a.path.every((value, index) => value === b.path[index])
  );
}
