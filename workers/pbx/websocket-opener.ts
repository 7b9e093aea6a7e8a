/**
 * How a PbxLink opens its outgoing WebSockets (`websocket-flow.ts`), with `fetch` and an
 * `Upgrade: websocket` header, the Workers way:
 * - `wss`: `https://host:port<ws_path>` with the `sip` subprotocol (RFC 7118 §4), which the server must
 *   choose; the platform verifies its certificate.
 * - `udp`: the SIP/UDP gateway of a media node, `GET /v1/sip-gateway/links/:linkId` on the node's
 *   control URL, signed with SIPEDGE_MEDIA_SECRET like every control request. The link keeps to
 *   the node it used last (the gateway holds its UDP port for 120 s after a disconnect) and picks
 *   another from the MediaFleet only when that one cannot be reached.
 */
import { RequestSigner } from '../../shared/signing/index.ts';
import type { PbxTarget } from './socket-connector.ts';
import type { WebSocketOpener } from './websocket-flow.ts';

export interface OpenerPorts {
  readonly fetch: typeof fetch;
  /** SIPEDGE_MEDIA_SECRET, when the edge has one of at least 32 characters. */
  secret(): string | undefined;
  /** The control URL of a media node that is up, if any. */
  pickNode(): Promise<string | undefined>;
}

const SIP_SUBPROTOCOL = 'sip';

function urlHost(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

async function upgrade(ports: OpenerPorts, url: string, headers: Record<string, string>, what: string): Promise<WebSocket> {
  const response = await ports.fetch(url, { headers: { Upgrade: 'websocket', ...headers } });
  const socket = response.webSocket;
  if (response.status !== 101 || socket === null) {
    const body = await response.text().catch(() => '');
    throw new Error(`${what} refused the WebSocket: ${response.status}${body === '' ? '' : ` ${body.slice(0, 200)}`}`);
  }
  socket.accept();
  return socket;
}

export function webSocketOpener(ports: OpenerPorts): WebSocketOpener {
  let gatewayNode: string | undefined;

  const openGateway = async (linkId: string): Promise<WebSocket> => {
    const secret = ports.secret();
    if (secret === undefined) throw new Error('udp needs a media node, and SIPEDGE_MEDIA_SECRET is not set');
    const controlUrl = gatewayNode ?? (await ports.pickNode());
    if (controlUrl === undefined) throw new Error('no media node is up to carry SIP over UDP');
    const path = `/v1/sip-gateway/links/${encodeURIComponent(linkId)}`;
    const signature = await new RequestSigner(secret).sign({ method: 'GET', path });
    try {
      const socket = await upgrade(ports, `${controlUrl.replace(/\/+$/, '')}${path}`, { ...signature }, `the media node at ${controlUrl}`);
      gatewayNode = controlUrl;
      return socket;
    } catch (error) {
      gatewayNode = undefined;
      throw error;
    }
  };

  const openSip = async (target: PbxTarget): Promise<WebSocket> => {
    const socket = await upgrade(ports, `https://${urlHost(target.host)}:${target.port}${target.path ?? '/'}`, { 'Sec-WebSocket-Protocol': SIP_SUBPROTOCOL }, `the PBX at ${target.host}:${target.port}`);
    // RFC 7118 §4: a server that did not choose "sip" does not speak it.
    if (socket.protocol !== '' && socket.protocol !== SIP_SUBPROTOCOL) {
      socket.close(1002, 'the sip subprotocol is required');
      throw new Error(`the PBX chose the WebSocket subprotocol "${socket.protocol}" instead of "sip"`);
    }
    return socket;
  };

  return (target, linkId) => (target.transport === 'udp' ? openGateway(linkId) : openSip(target));
}
