/**
 * PUBLISH (RFC 3903) of the `presence` package by the user's own devices: the edge is the event
 * state compositor for every user of its domain. Pure: the publications in, the response and the
 * publications out.
 *
 * RFC 3903 §6, as done here:
 * - step 2-3: only `presence`, only for the publisher's own AOR (489, 403);
 * - step 4: SIP-If-Match names a live entity-tag, else 412 Conditional Request Failed;
 * - step 5: Expires below the minimum gets 423 with Min-Expires, above the maximum is shortened;
 * - initial (no SIP-If-Match): a PIDF body is required (400 without one, 415 for another type);
 * - refresh (SIP-If-Match, no body), modify (SIP-If-Match and a body), remove (Expires: 0);
 * - step 7: every success gets a new entity-tag in SIP-ETag, and the Expires granted.
 */
import { parseUri } from '../../shared/grammar/index.ts';
import { getExpires, getHeader, type HeaderField, type SipRequest } from '../../shared/message/index.ts';
import { aorOf } from '../sip/address-of-record.ts';
import { randomHex } from '../sip/edge-ua.ts';
import { CONTENT_TYPE, DEFAULT_EXPIRES, MAX_EXPIRES, MIN_EXPIRES, readEvent } from './event-package.ts';

export interface Publication {
  readonly etag: string;
  readonly contentType: string;
  readonly body: string;
  readonly expiresAt: number;
  readonly updatedAt: number;
}

export interface PublishResult {
  readonly status: number;
  readonly reason?: string;
  readonly headers: readonly HeaderField[];
  /** The publication written (new, refreshed or modified), if any. */
  readonly saved?: Publication;
  /** The entity-tag that is gone (replaced by `saved`, or removed). */
  readonly removed?: string;
  /** The composed presence may have changed: watchers are told. */
  readonly changed: boolean;
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });

export function handlePublish(request: SipRequest, publications: readonly Publication[], aor: string, domain: string, now: number): PublishResult {
  const refuse = (status: number, reason?: string, headers: readonly HeaderField[] = []): PublishResult => ({ status, ...(reason === undefined ? {} : { reason }), headers, changed: false });
  const event = readEvent(request);
  if (!event.ok || event.package !== 'presence') return refuse(489, undefined, [{ name: 'Allow-Events', value: 'presence' }]);
  let target;
  try {
    target = aorOf(parseUri(request.uri), domain);
  } catch {
    return refuse(400, 'Bad Request-URI');
  }
  if (!target.ok || target.aor !== aor) return refuse(403, 'Only your own presence may be published');
  let expires: number;
  try {
    expires = getExpires(request) ?? DEFAULT_EXPIRES;
  } catch {
    return refuse(400, 'Bad Expires');
  }
  if (expires > 0 && expires < MIN_EXPIRES) return refuse(423, undefined, [{ name: 'Min-Expires', value: String(MIN_EXPIRES) }]);
  expires = Math.min(expires, MAX_EXPIRES);
  const ifMatch = getHeader(request, 'SIP-If-Match')?.trim();
  const existing = ifMatch === undefined ? undefined : publications.find((each) => each.etag === ifMatch && each.expiresAt > now);
  if (ifMatch !== undefined && existing === undefined) return refuse(412);
  const hasBody = request.body.length > 0;
  if (hasBody) {
    const type = (getHeader(request, 'Content-Type') ?? '').split(';')[0]?.trim().toLowerCase();
    if (type !== CONTENT_TYPE.presence) return refuse(415, undefined, [{ name: 'Accept', value: CONTENT_TYPE.presence }]);
  }
  if (expires === 0) {
    // RFC 3903 §4.5: removal names the entity-tag; an initial PUBLISH with Expires: 0 makes no sense.
    if (existing === undefined) return refuse(400, 'Expires 0 without SIP-If-Match');
    return { status: 200, headers: [{ name: 'SIP-ETag', value: existing.etag }, { name: 'Expires', value: '0' }], removed: existing.etag, changed: true };
  }
  if (existing === undefined && !hasBody) return refuse(400, 'Initial PUBLISH without a body');
  let body = existing?.body ?? '';
  if (hasBody) {
    try {
      body = strictUtf8.decode(request.body);
    } catch {
      return refuse(400, 'PIDF body is not UTF-8');
    }
  }
  const saved: Publication = { etag: randomHex(10), contentType: CONTENT_TYPE.presence, body, expiresAt: now + expires * 1000, updatedAt: hasBody ? now : (existing?.updatedAt ?? now) };
  return {
    status: 200,
    headers: [
      { name: 'SIP-ETag', value: saved.etag },
      { name: 'Expires', value: String(expires) },
    ],
    saved,
    ...(existing === undefined ? {} : { removed: existing.etag }),
    changed: hasBody,
  };
}
