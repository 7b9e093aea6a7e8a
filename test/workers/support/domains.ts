/** A second served domain (tenant) and its users, written where the SIP side reads them. */
import { env } from 'cloudflare:workers';
import type { DomainRetention } from '../../../workers/domains/domain-record.ts';
import { domainRegistry } from '../../../workers/domains/domain-registry.ts';
import { accountFromPassword } from '../../../workers/user/account.ts';

export const DOMAIN_B = 'b.example';
export const ALIAS_B = 'sip.b.example';

/** Serves `b.example` (alias `sip.b.example`) with `retention`, as `POST /api/v1/domains` does. */
export async function serveDomainB(retention: Partial<DomainRetention> = {}): Promise<void> {
  const result = await domainRegistry(env).put({ name: DOMAIN_B, aliases: [ALIAS_B], retention });
  if (!result.ok) throw new Error(`domain ${DOMAIN_B}: ${result.conflict} is ${result.owner}'s`);
}

export function userStubIn(domain: string, username: string) {
  return env.SIP_USER.get(env.SIP_USER.idFromName(`${username}@${domain}`));
}

/** A user of `domain` with `password`, as the users API creates one. */
export async function createUserIn(domain: string, username: string, password: string): Promise<void> {
  await userStubIn(domain, username).putAccount(accountFromPassword({ username, domain, password }));
}
