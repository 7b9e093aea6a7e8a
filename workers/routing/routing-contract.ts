/**
 * The Routing object's RPC contract: what the call path asks before it sends an INVITE toward a
 * PBX or trunk (`planOutbound`), when such a call ends (`releaseOutbound`), and when an INVITE
 * arrives from one (`routeInbound`, `inboundCancelled`); and what the pbx-links API tells it
 * (`linkChanged`). One Routing object per SIP domain, named by the domain (binding ROUTING).
 */

export interface OutboundRequest {
  /** The call's id at the edge: the key of its concurrency slot. */
  readonly callId: string;
  /** The calling user, authenticated at the edge. */
  readonly user: string;
  /** The Request-URI user part as dialled (`+4930123`, `0049...`, `1001`). */
  readonly dialled: string;
  /** The user's attributes, for caller-ID templates and group conditions. */
  readonly userAttributes?: Readonly<Record<string, string>>;
  /** `request.cf.country` of the user's socket, when known. */
  readonly country?: string;
  /** `request.cf.colo`: the edge location. */
  readonly colo?: string;
}

export interface CallerId {
  readonly displayName?: string;
  readonly user: string;
}

export interface TrunkAttempt {
  /** A PbxLink id. */
  readonly linkId: string;
  /** The dialled number after the rule's rewriting: the Request-URI user toward this trunk. */
  readonly number: string;
  /** The From toward this trunk. */
  readonly callerId: CallerId;
}

export type OutboundPlan =
  | { readonly ok: true; readonly ruleId?: string; readonly attempts: readonly TrunkAttempt[] }
  /** 403 "Destination not allowed", 503 for limits, 404 "No route". */
  | { readonly ok: false; readonly status: number; readonly reason: string };

export interface InboundRequest {
  readonly linkId: string;
  /** The INVITE's Request-URI. */
  readonly requestUri: string;
  readonly to: string;
  readonly from: string;
  readonly headers: readonly { readonly name: string; readonly value: string }[];
  readonly sdp?: string;
}

export type InboundTarget =
  /** Usernames of this domain to ring, forked in parallel. */
  | { readonly ok: true; readonly users: readonly string[] }
  | { readonly ok: false; readonly status: number; readonly reason: string };

/** What the pbx-links API tells the registry about a link; `undefined` when it was deleted. */
export interface LinkSummary {
  readonly can_terminate: boolean;
}

/** The RPC methods of the Routing object. */
export interface RoutingRpc {
  /** Plans the attempts; also takes a concurrency slot for `callId` and counts the attempt. */
  planOutbound(request: OutboundRequest): Promise<OutboundPlan>;
  /** The call ended (idempotent); slots also expire after 4 hours. */
  releaseOutbound(callId: string): Promise<void>;
  /** Static mappings, then the inbound webhook, then the Request-URI user that names a user. */
  routeInbound(request: InboundRequest): Promise<InboundTarget>;
  /** Fires the inbound-cancel webhook, if configured. */
  inboundCancelled(request: InboundRequest): Promise<void>;
  /** From the pbx-links API: PUT (the link) and DELETE (`undefined`). */
  linkChanged(id: string, link: LinkSummary | undefined): Promise<void>;
  listLinks(): Promise<readonly string[]>;
}
