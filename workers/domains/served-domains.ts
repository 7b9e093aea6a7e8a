/**
 * Which domain a host name names, for the SIP side and the API: the DomainRegistry's answer, cached
 * per isolate for `CACHE_MS` (answers "none" included), so a REGISTER storm or a call does not make
 * the registry a hot spot. A change made through the API is seen at once in the isolate that made it
 * (`forgetServedDomains`) and within `CACHE_MS` everywhere else.
 *
 * A lookup on its way is not shared with requests that arrive meanwhile: workerd ties a promise to
 * the request whose I/O made it, and another request waiting on it risks being cancelled with it. So
 * when an entry expires, the requests of that moment each ask once; the registry answers each from its local SQLite.
 *
 * SIPEDGE_DOMAIN is always served: when the registry cannot be reached, it is answered from the
 * environment with default settings, so the installation's own users never depend on the registry.
 */
import { DEFAULT_RETENTION, domainKey, type DomainRecord } from './domain-record.ts';
import { domainRegistry } from './domain-registry.ts';

export const CACHE_MS = 10_000;

const cache = new Map<string, { readonly record: DomainRecord | null; readonly until: number }>();

/** The served domain whose name or alias is `host` (any case, port ignored), or undefined. */
export async function servedDomain(env: Env, host: string, now: number = Date.now()): Promise<DomainRecord | undefined> {
  const key = domainKey(host);
  const cached = cache.get(key);
  if (cached !== undefined && cached.until > now) return cached.record ?? undefined;
  let record: DomainRecord | null;
  try {
    record = await domainRegistry(env).lookup(key);
  } catch (error) {
    if (key !== domainKey(env.SIPEDGE_DOMAIN)) throw error;
    record = { name: key, aliases: [], retention: DEFAULT_RETENTION, createdAt: 0, installation: true };
  }
  if (cache.size > 1_000) cache.clear();
  cache.set(key, { record, until: now + CACHE_MS });
  return record ?? undefined;
}

/** After a write through the API: this isolate asks the registry again. */
export function forgetServedDomains(): void {
  cache.clear();
}
