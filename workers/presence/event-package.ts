/**
 * The SIP event packages the edge serves (RFC 6665 §7.2: an Event header names one, §8.2.1 its
 * parameters): `presence` (RFC 3856, PIDF bodies, RFC 3863), `dialog` (RFC 4235, the
 * busy-lamp field) and `message-summary` (RFC 3842, message-waiting indication: the edge keeps no
 * voicemail: subscribers get the last summary the user's PBX sent, else `Messages-Waiting: no`, which
 * stops softphones that subscribe from retrying). Anything else gets 489 Bad Event with Allow-Events (RFC 6665 §8.3.2).
 */
import { getHeader, getHeaders, type SipRequest } from '../../shared/message/index.ts';

export type EventPackage = 'presence' | 'dialog' | 'message-summary';

/** RFC 6665 §8.2.2 (Allow-Events) and §7.2.2 (489 carries it). */
export const ALLOW_EVENTS = 'presence, dialog, message-summary';

/** The body type of each package's NOTIFYs (RFC 3856 §6.6, RFC 4235 §3.6, RFC 3842 §3.6). */
export const CONTENT_TYPE: Readonly<Record<EventPackage, string>> = {
  presence: 'application/pidf+xml',
  dialog: 'application/dialog-info+xml',
  'message-summary': 'application/simple-message-summary',
};

/**
 * RFC 3842 §3.5: the message summary of `account` when its PBX has sent none. The edge has no
 * voicemail of its own (MESSAGEs kept for an offline user are delivered at its next REGISTER, not
 * summarised).
 */
export function messageSummary(account: string): string {
  return `Messages-Waiting: no\r\nMessage-Account: ${account}\r\n`;
}

/** RFC 3856 §6.4 and RFC 4235 §3.4: 3600 s when the SUBSCRIBE says nothing. */
export const DEFAULT_EXPIRES = 3600;
/** The longest subscription or publication the edge grants; longer requests are shortened (RFC 6665 §4.2.1.1). */
export const MAX_EXPIRES = 3600;
/** Shorter requests get 423 Interval Too Brief with Min-Expires (RFC 6665 §4.2.1.1, RFC 3903 §6 step 5). */
export const MIN_EXPIRES = 60;

export type EventRead =
  | { readonly ok: true; readonly package: EventPackage; readonly id?: string }
  | { readonly ok: false; readonly event: string };

/** RFC 6665 §8.2.1: `Event: presence;id=...`; the package name compares case-insensitively here. */
export function readEvent(request: SipRequest): EventRead {
  const value = getHeader(request, 'Event') ?? '';
  const [name = '', ...params] = value.split(';').map((part) => part.trim());
  const id = params.find((param) => param.toLowerCase().startsWith('id='))?.slice(3);
  const lower = name.toLowerCase();
  if (lower === 'presence' || lower === 'dialog' || lower === 'message-summary') return { ok: true, package: lower, ...(id === undefined ? {} : { id }) };
  return { ok: false, event: name };
}

/** The Event header value of a NOTIFY: the package and the id the SUBSCRIBE gave (RFC 6665 §4.2.1). */
export function eventHeader(pkg: EventPackage, id: string | undefined): string {
  return id === undefined ? pkg : `${pkg};id=${id}`;
}

/** RFC 6665 §4.2.1.1 and RFC 3261 §21.4.7: a SUBSCRIBE whose Accept excludes the package's body type gets 406. */
export function accepts(request: SipRequest, pkg: EventPackage): boolean {
  const ranges = getHeaders(request, 'Accept').flatMap((value) => value.split(',')).map((range) => range.split(';')[0]?.trim().toLowerCase() ?? '');
  if (ranges.length === 0 || ranges.every((range) => range === '')) return true;
  const wanted = CONTENT_TYPE[pkg];
  return ranges.some((range) => range === wanted || range === '*/*' || range === `${wanted.split('/')[0]}/*`);
}
