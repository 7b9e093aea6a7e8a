/**
 * Addresses-of-record (RFC 3261 §10.2.1: the To of a REGISTER names the AOR) and the key that
 * names each user's Durable Object: `user@domain`, the user unescaped (RFC 3261 §19.1.4 compares
 * the unescaped form and the user part case-sensitively) and the domain lower-cased.
 */
import { unescapeUri, type Uri } from '../../shared/grammar/index.ts';

export type AorResult =
  | { readonly ok: true; readonly aor: string; readonly user: string }
  | { readonly ok: false; readonly reason: 'not-sip' | 'no-user' | 'foreign-domain'; readonly detail: string };

/**
 * The AOR key of `uri` when it names a user of `domain`: its host is the domain or one of its
 * `aliases` (lower case), and the key names the domain itself.
 */
export function aorOf(uri: Uri, domain: string, aliases: readonly string[] = []): AorResult {
  if (uri.kind !== 'sip') return { ok: false, reason: 'not-sip', detail: `${uri.scheme}: is not a SIP or SIPS URI` };
  if (uri.user === undefined || uri.user.length === 0) return { ok: false, reason: 'no-user', detail: `sip:${uri.host} names no user` };
  const host = uri.host.toLowerCase();
  const name = domain.toLowerCase();
  if (host !== name && !aliases.includes(host)) return { ok: false, reason: 'foreign-domain', detail: `${host} is not the domain ${domain}` };
  const user = unescapeUri(uri.user);
  return { ok: true, aor: `${user}@${name}`, user };
}

/** The domain part of an AOR key (`user@domain`). */
export function domainOfAor(aor: string): string {
  return aor.slice(aor.lastIndexOf('@') + 1);
}

/** The AOR key of a username of `domain` (the API and the registrar build the same key). */
export function aorForUser(user: string, domain: string): string {
  return `${user}@${domain.toLowerCase()}`;
}
