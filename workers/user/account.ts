/**
 * A user of the edge: the address-of-record, the digest username, a display name, and the HA1s
 * for MD5 and SHA-256 (RFC 7616 §3.4.2, RFC 8760). The password is hashed where it arrives (the
 * API) and never stored or passed on: only H(username:realm:password) is.
 */
import { userHA1 } from '../../shared/auth/index.ts';
import type { StoredCredentials } from '../registrar/registrar-auth.ts';
import { aorForUser } from '../sip/address-of-record.ts';

export interface Account extends StoredCredentials {
  /** `user@domain`: the key of the user's Durable Object. */
  readonly aor: string;
  readonly displayName?: string;
}

export interface NewAccount {
  readonly username: string;
  /** The SIP domain, which is also the digest realm. */
  readonly domain: string;
  readonly password: string;
  readonly displayName?: string;
}

export function accountFromPassword(input: NewAccount): Account {
  const realm = input.domain.toLowerCase();
  return {
    aor: aorForUser(input.username, realm),
    username: input.username,
    ...(input.displayName === undefined ? {} : { displayName: input.displayName }),
    ha1: {
      MD5: userHA1('MD5', input.username, realm, input.password),
      'SHA-256': userHA1('SHA-256', input.username, realm, input.password),
    },
  };
}

/** What the API shows of an account: never the HA1s. */
export interface AccountView {
  readonly username: string;
  readonly aor: string;
  readonly displayName?: string;
}

export function viewOf(account: Account): AccountView {
  return { username: account.username, aor: account.aor, ...(account.displayName === undefined ? {} : { displayName: account.displayName }) };
}
