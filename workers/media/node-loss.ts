/**
 * A media node's sessions are gone (it restarted, or it went silent for three heartbeat
 * intervals): every PbxLink, as the routing registries of all served domains list them (media
 * nodes are shared by every domain), ends the calls that had a session on it, with BYE on both
 * legs (`PbxLink.mediaNodeLost`). A link without such calls does nothing.
 */
import { domainRegistry } from '../domains/domain-registry.ts';
import type { Logger } from '../logger.ts';
import { routingFor } from '../routing/routing.ts';

export async function endCallsOn(env: Env, log: Logger, controlUrl: string, reason: string): Promise<void> {
  try {
    const domains = await domainRegistry(env).list();
    // SIPEDGE_DOMAIN's Routing object is named as configured; the registry keeps its name lower case.
    const perDomain = await Promise.all(domains.map((domain) => routingFor(env, domain.installation ? env.SIPEDGE_DOMAIN : domain.name).listLinks()));
    const ids = perDomain.flat();
    const ended = await Promise.all(ids.map((id) => env.PBX_LINK.get(env.PBX_LINK.idFromName(id)).mediaNodeLost(controlUrl, reason)));
    log.warn('media-node.calls-ended', { controlUrl, reason, calls: ended.reduce((sum, count) => sum + count, 0) });
  } catch (error) {
    log.error('media-node.calls-end-failed', { controlUrl, reason, error: String(error) });
  }
}
