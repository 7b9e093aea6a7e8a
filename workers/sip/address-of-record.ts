/**
 * Addresses-of-record (RFC 3261 §10.2.1: the To of a REGISTER names the AOR) and the key that
 * names each user's Durable Object: `user@domain`, the user unescaped (RFC 3261 §19.1.4 compares
 * the unescaped form and the user part case-sensitively) and the domain lower-cased.
 */
import { unescapeUri, type Uri } from '../../shared/grammar/index.ts';

export type AorResult =
  | { readonly ok: true; readonly aor: string; readonly user: string }
  | { readonly ok: false; readonly reason: 'not-sip' | 'no-user' | 'foreign-domain'; readonly detail: string };

/** The AOR key of `uri` when it names a user of `domain`. */
export function aorOf(uri: Uri, domain: string): AorResult {
  if (uri.kind !== 'sip') return { ok: false, reason: 'not-sip', detail: `${uri.scheme}: is not a SIP or SIPS URI` };
  if (uri.user === undefined || uri.user.length === 0) return { ok: false, reason: 'no-user', detail: `sip:${uri.host} names no user` };
  const host = uri.host.toLowerCase();
  if (host !== domain.toLowerCase()) return { ok: false, reason: 'foreign-domain', detail: `${host} is not the domain ${domain}` };
  const user = unescapeUri(uri.user);
  return { ok: true, aor: `${user}@${host}`, user };
}

/** The AOR key of a username of `domain` (the API and the registrar build the same key). */
export function aorForUser(user: string, domain: string): string {
  return `${user}@${domain.toLowerCase()}`;
}
