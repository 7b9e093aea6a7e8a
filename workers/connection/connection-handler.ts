/**
 * One WebSocket message through a SipConnection: read it (`readInboundFrame`), find the served
 * domain its address names (`domainOf`, cached per isolate), route it (`routeAddressed`), then act
 * through the ports the Durable Object provides. Kept apart from the class so that it can be read, and
 * tested, without a runtime.
 *
 * Nothing here may throw to the caller: a message that cannot be handled is answered or dropped,
 * and logged, and the connection goes on with the next one.
 */
import { createResponse, type SipRequest, type SipResponse } from '../../shared/message/index.ts';
import { KEEPALIVE_PONG } from '../../shared/framing/index.ts';
import type { Logger } from '../logger.ts';
import { errorFields } from '../logger.ts';
import type { Flow } from '../sip/flow.ts';
import { encodeForWebSocket, randomTag } from '../sip/wire.ts';
import { readInboundFrame, routeAddressed, type DomainNames, type RoutedAction } from './inbound-frame.ts';

/** A request a socket's holder handled by itself: the response to send, if any. */
export interface LocalAnswer {
  readonly response: SipResponse | undefined;
}

export interface ConnectionPorts {
  /** The served domain whose name or alias `host` is, or undefined (`servedDomain`). */
  domainOf(host: string): Promise<DomainNames | undefined>;
  /** SIPEDGE_NONCE_SECRET, for routing by temporary GRUUs (`readInboundFrame`). */
  readonly nonceSecret?: string;
  readonly flow: Flow;
  readonly log: Logger;
  /** Writes on this connection's WebSocket. */
  send(data: string | Uint8Array): void;
  /**
   * What this holder answers by itself, without the user's object (a prepared challenge, or the ACK
   * of one: nothing to send); undefined to forward.
   */
  answerLocally?(aor: string, request: SipRequest, flow: Flow): LocalAnswer | undefined;
  /** Hands a request to the SipUser object of `aor`; resolves to the response to send back, if any. */
  forwardRequest(aor: string, request: SipRequest, flow: Flow): Promise<SipResponse | undefined>;
  /** Hands a response to the SipUser object of `aor`. */
  forwardResponse(aor: string, response: SipResponse, flow: Flow): Promise<void>;
}

export async function handleWebSocketMessage(data: string | ArrayBuffer, ports: ConnectionPorts): Promise<void> {
  const options = ports.nonceSecret === undefined ? {} : { nonceSecret: ports.nonceSecret };
  let action: RoutedAction;
  try {
    const read = readInboundFrame(data, options);
    if (read.kind === 'pong') {
      // Only when the runtime's auto-response did not catch the ping (a binary-frame ping).
      send(ports, KEEPALIVE_PONG);
      return;
    }
    if (read.kind === 'ignore') return;
    if (read.kind !== 'request' && read.kind !== 'response') action = read;
    else {
      const domain = read.address.kind === 'sip' ? await domainOf(read.address.host, ports) : undefined;
      if (domain === null) {
        if (read.kind === 'request' && read.request.method !== 'ACK') send(ports, encodeForWebSocket(createResponse(read.request, 503, undefined, { toTag: randomTag() })));
        return;
      }
      action = routeAddressed(read, domain, options);
    }
  } catch (error) {
    // A bug in the parser must not take the connection down with it.
    ports.log.error('sip.frame.failed', errorFields(error));
    return;
  }
  switch (action.kind) {
    case 'drop':
      ports.log.warn(action.event, { detail: action.detail, remote: ports.flow.remoteAddress });
      return;
    case 'answer':
      if (action.response.status >= 300) ports.log.info(action.event, { detail: action.detail, status: action.response.status });
      send(ports, encodeForWebSocket(action.response));
      return;
    case 'request':
      await relayRequest(action.aor, action.request, ports);
      return;
    case 'response':
      try {
        await ports.forwardResponse(action.aor, action.response, ports.flow);
      } catch (error) {
        ports.log.error('sip.response.forward-failed', { aor: action.aor, ...errorFields(error) });
      }
      return;
  }
}

/** The served domain `host` names; null when the domain registry cannot be reached (logged). */
async function domainOf(host: string, ports: ConnectionPorts): Promise<DomainNames | undefined | null> {
  try {
    return await ports.domainOf(host);
  } catch (error) {
    ports.log.error('sip.domain.lookup-failed', { host, ...errorFields(error) });
    return null;
  }
}

async function relayRequest(aor: string, request: SipRequest, ports: ConnectionPorts): Promise<void> {
  let response: SipResponse | undefined;
  try {
    const local = ports.answerLocally?.(aor, request, ports.flow);
    response = local === undefined ? await ports.forwardRequest(aor, request, ports.flow) : local.response;
  } catch (error) {
    ports.log.error('sip.request.forward-failed', { aor, method: request.method, ...errorFields(error) });
    // RFC 3261 §8.1.3.1 and §16.9: an element that cannot reach the next one answers 503.
    if (request.method !== 'ACK') response = createResponse(request, 503, undefined, { toTag: randomTag() });
  }
  if (response !== undefined) send(ports, encodeForWebSocket(response));
}

function send(ports: ConnectionPorts, data: string | Uint8Array): void {
  try {
    ports.send(data);
  } catch (error) {
    // The peer went away between its message and our answer: RFC 5626 §5.3, the flow has failed.
    ports.log.info('sip.flow.send-failed', errorFields(error));
  }
}
