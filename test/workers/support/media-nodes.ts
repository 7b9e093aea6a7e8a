/** The media fleet's view of a media node: a heartbeat that puts a node up, so the fleet picks it for calls. */
import { env } from 'cloudflare:workers';

/** A heartbeat from node `fake-node`, up with room, whose control API is `http://media.test`. */
export async function mediaNodeUp(): Promise<void> {
  const now = new Date().toISOString();
  await env.MEDIA_FLEET.get(env.MEDIA_FLEET.idFromName('fleet')).heartbeat({
    nodeId: 'fake-node', region: 'test', state: 'up', controlUrl: 'http://media.test', pbxAddress: '127.0.0.1', capacity: 100, sessions: 0, load: 0, cpu: null, startedAt: now, sentAt: now,
  });
}
