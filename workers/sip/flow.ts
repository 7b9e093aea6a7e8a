/**
 * RFC 5626 §3.1: a flow is the transport association a registration arrived over, and the only
 * way back to a browser, whose Via and Contact hosts are `.invalid` (RFC 7118 §5.2). Here a flow
 * is one WebSocket, held by one SipConnection Durable Object and named by that object's id.
 */
export interface Flow {
  /** The SipConnection Durable Object id (hex), which `SIP_CONNECTION.idFromString` turns back into a stub. */
  readonly connectionId: string;
  /**
   * RFC 7118 §7: the Via transport of SIP over WebSocket, WSS when the WebSocket runs over TLS;
   * TCP or TLS for a PbxLink's connection to its PBX (RFC 3261 §18.3), which its calls use as their flow.
   */
  readonly transport: 'WS' | 'WSS' | 'TCP' | 'TLS';
  /** The client's IP address as the edge saw it (CF-Connecting-IP), empty when unknown. */
  readonly remoteAddress: string;
  /** When the WebSocket was accepted, ms since the epoch. */
  readonly openedAt: number;
  /**
   * The host of the WebSocket URL the client connected to (its Host header, lower-cased, without
   * port): a name of this edge that a REGISTER's Request-URI may use (`workers/registrar/register-checks.ts`).
   * Absent on flows accepted before it was recorded, and on a PbxLink's flow: unknown.
   */
  readonly host?: string;
}
