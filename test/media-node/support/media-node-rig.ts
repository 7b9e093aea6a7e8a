/**
 * A media node service on 127.0.0.1 for control API tests, driven only through its HTTP API: a
 * signed control client in the edge's place, an edge double receiving its heartbeats and
 * session-end reports, and helpers that set up a whole call (a werift peer as the browser, a UDP
 * socket as the PBX) purely with control requests. Every wait has a deadline.
 */
import { loadConfig, type Environment } from '../../../media-node/config/index.ts';
import { MediaNodeService, type MediaNodeServiceOptions } from '../../../media-node/service/index.ts';
import { buildRtpSdp, newOrigin, serializeSdp, type CodecInput } from '../../../shared/sdp/index.ts';
import { PBX_PCMU } from './call-rig.ts';
import { ControlClient, type CreatedFromBrowser, type CreatedFromPbx } from './control-client.ts';
import { startEdgeDouble, type EdgeDouble } from './edge-double.ts';
import { udpPeer, type UdpPeer } from './udp.ts';
import { WeriftBrowser } from './werift-browser.ts';

export const TEST_SECRET = 'test-control-secret-0123456789abcdef';

/** RTP ports of this process's own (call-rig uses 50,000 up, pbx-leg tests 30,000 up). */
const BASE = 20_000 + (process.pid % 400) * 20;

export interface NodeRig {
  readonly service: MediaNodeService;
  readonly client: ControlClient;
  readonly edge: EdgeDouble;
  close(): Promise<void>;
}

export async function startNode(env: Environment = {}, options: MediaNodeServiceOptions = {}): Promise<NodeRig> {
  const edge = await startEdgeDouble(TEST_SECRET);
  const config = loadConfig({
    SIPEDGE_MEDIA_SECRET: TEST_SECRET,
    SIPEDGE_MEDIA_LOCAL: 'true',
    SIPEDGE_MEDIA_CONTROL_PORT: '0',
    SIPEDGE_MEDIA_RTP_PORT_MIN: String(BASE),
    SIPEDGE_MEDIA_RTP_PORT_MAX: String(BASE + 19),
    SIPEDGE_MEDIA_EDGE_URL: edge.url,
    SIPEDGE_MEDIA_NODE_ID: 'test-node',
    ...env,
  });
  const service = await MediaNodeService.start(config, { reportRetryDelaysMs: [20, 40, 80], shutdownReportDeadlineMs: 2000, ...options });
  const client = new ControlClient(service.controlUrl, TEST_SECRET);
  return {
    service,
    client,
    edge,
    close: async () => {
      await service.stop();
      await edge.close();
    },
  };
}

export interface ControlledCall {
  readonly id: string;
  readonly browser: WeriftBrowser;
  readonly pbx: UdpPeer;
  /** The node's PBX-side RTP port. */
  readonly nodePort: number;
  /** The payload type of Opus toward the browser (the browser's own in its offer, the node's in its). */
  readonly browserOpusPayloadType: number;
  close(): Promise<void>;
}

/** The PBX's SDP for its socket: an answer or an offer, PCMU and telephone-event by default. */
export function pbxSdp(pbx: UdpPeer, codecs: readonly CodecInput[] = PBX_PCMU): string {
  return serializeSdp(buildRtpSdp({ origin: newOrigin({ address: '127.0.0.1' }), address: '127.0.0.1', port: pbx.port, codecs, ptime: 20 }));
}

/** A call from the browser, set up as the edge would: create, PBX answer, and the browser connected. */
export async function callFromBrowser(
  client: ControlClient,
  id: string,
  options: { browserOffers?: readonly string[]; mediaTimeoutMs?: number; pbxAnswer?: readonly CodecInput[] } = {},
): Promise<ControlledCall> {
  const browser = new WeriftBrowser(options.browserOffers ?? ['opus']);
  const pbx = await udpPeer();
  const created = await client.request<CreatedFromBrowser>('POST', '/v1/sessions', {
    id,
    browserOffer: await browser.offer(),
    ...(options.mediaTimeoutMs === undefined ? {} : { mediaTimeoutMs: options.mediaTimeoutMs }),
  });
  if (created.status !== 201) throw new Error(`create answered ${created.status}: ${JSON.stringify(created.body)}`);
  const nodePort = Number(/m=audio (\d+)/.exec(created.body.pbxOffer)?.[1]);
  const answered = await client.request('POST', `/v1/sessions/${id}/answer`, { pbxAnswer: pbxSdp(pbx, options.pbxAnswer) });
  if (answered.status !== 200) throw new Error(`answer answered ${answered.status}: ${JSON.stringify(answered.body)}`);
  await browser.acceptAnswer(created.body.browserAnswer);
  await browserConnected(client, browser, id);
  return { id, browser, pbx, nodePort, browserOpusPayloadType: opusPayloadType(created.body.browserAnswer), close: () => closeCall(browser, pbx) };
}

/** A call from the PBX: create with the PBX offer, the browser's answer, and the browser connected. */
export async function callFromPbx(client: ControlClient, id: string): Promise<ControlledCall> {
  const browser = new WeriftBrowser();
  const pbx = await udpPeer();
  const created = await client.request<CreatedFromPbx>('POST', '/v1/sessions', { id, pbxOffer: pbxSdp(pbx) });
  if (created.status !== 201) throw new Error(`create answered ${created.status}: ${JSON.stringify(created.body)}`);
  const nodePort = Number(/m=audio (\d+)/.exec(created.body.pbxAnswer)?.[1]);
  const browserAnswer = await browser.answer(created.body.browserOffer);
  const answered = await client.request('POST', `/v1/sessions/${id}/answer`, { browserAnswer });
  if (answered.status !== 200) throw new Error(`answer answered ${answered.status}: ${JSON.stringify(answered.body)}`);
  await browserConnected(client, browser, id);
  return { id, browser, pbx, nodePort, browserOpusPayloadType: opusPayloadType(browserAnswer), close: () => closeCall(browser, pbx) };
}

function opusPayloadType(sdp: string): number {
  const match = /a=rtpmap:(\d+) opus\/48000/i.exec(sdp);
  if (match === null) throw new Error('no Opus in the SDP');
  return Number(match[1]);
}

/** Waits until the browser and the node's browser leg of session `id` are both connected. */
export async function browserConnected(client: ControlClient, browser: WeriftBrowser, id: string): Promise<void> {
  await browser.connected();
  // The node drops what it would send before its own side of DTLS is up: wait for it too.
  const deadline = performance.now() + 10_000;
  let state = '';
  while (performance.now() < deadline) {
    const view = await client.request<{ browserConnection: string }>('GET', `/v1/sessions/${id}`);
    state = view.body.browserConnection;
    if (state === 'connected') return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`session ${id}'s browser leg did not connect (${state})`);
}

async function closeCall(browser: WeriftBrowser, pbx: UdpPeer): Promise<void> {
  await browser.close();
  await pbx.close();
}
