/**
 * A media node's sessions are gone (it restarted, or it went silent for three heartbeat
 * intervals): every PbxLink, as the routing registry lists them, ends the calls that had a session
 * on it, with BYE on both legs (`PbxLink.mediaNodeLost`). A link without such calls does nothing.
 */
import type { Logger } from '../logger.ts';
import { routingFor } from '../routing/routing.ts';

export async function endCallsOn(env: Env, log: Logger, controlUrl: string, reason: string): Promise<void> {
  try {
    const ids = await routingFor(env).listLinks();
    const ended = await Promise.all(ids.map((id) => env.PBX_LINK.get(env.PBX_LINK.idFromName(id)).mediaNodeLost(controlUrl, reason)));
    log.warn('media-node.calls-ended', { controlUrl, reason, calls: ended.reduce((sum, count) => sum + count, 0) });
  } catch (error) {
    log.error('media-node.calls-end-failed', { controlUrl, reason, error: String(error) });
  }
}
