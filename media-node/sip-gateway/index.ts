export { LinkPortRange, LinkPortsExhaustedError } from './link-port-range.ts';
export { edgeFrame, type EdgeFrame, type GatewayErrorReason, type GatewayFrame, type TransportAddress } from './gateway-protocol.ts';
export { DEFAULT_SIP_TIMING, SipLink, type LinkTimers, type SipLinkCounters, type SipLinkOptions, type SipTiming } from './sip-link.ts';
export { SIP_GATEWAY_PATH, SipGateway, type SipGatewayOptions } from './sip-gateway.ts';
export { identify, type MessageIdentity } from './transaction-identity.ts';
export { WebSocketConnection, handshakeProblem, type WebSocketHandlers } from './websocket-connection.ts';
