/**
 * Which domain a PBX link belongs to. Link ids are unique across the edge (the PbxLink object is
 * named by the id alone, so media session ids `link.<id>.<callId>` name it), and each link's
 * configuration records its `domain`; a link stored before domains existed has none and is
 * SIPEDGE_DOMAIN's. The API shows a domain its own links only: another domain's link is answered
 * as if it did not exist.
 */
import type { LinkViewWithUsers } from '../pbx/pbx-link.ts';
import { domainKey } from '../domains/domain-record.ts';

export function linkStub(env: Env, id: string) {
  return env.PBX_LINK.get(env.PBX_LINK.idFromName(id));
}

/** The domain of a link's configuration, as its Directory and Routing objects are named. */
export function domainOfLink(env: Env, config: { readonly domain?: string }): string {
  return config.domain ?? env.SIPEDGE_DOMAIN;
}

/** The link `id` as `domain` may see it: undefined when there is none, or when it is another domain's. */
export async function linkOf(env: Env, domain: string, id: string): Promise<LinkViewWithUsers | undefined> {
  const view = await linkStub(env, id).getLink();
  return view !== undefined && domainKey(domainOfLink(env, view)) === domainKey(domain) ? view : undefined;
}
