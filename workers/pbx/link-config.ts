/**
 * What a PbxLink is configured with: where the PBX or trunk is, how to reach it, and its outbound
 * registration, with the options of Asterisk's res_pjsip outbound registration under the same
 * names, meanings and defaults (`client_uri`, `server_uri`, `contact_user`, `expiration`,
 * `max_retries`, `retry_interval`, `forbidden_retry_interval`, `fatal_retry_interval`,
 * `auth_rejection_permanent`, `max_random_initial_delay`, `line`, `endpoint`, `support_path`,
 * `support_outbound`, `user_agent`), and the AoR's `qualify_frequency`.
 *
 * Differences from Asterisk, each for a reason:
 * - credentials are given inline (`username`, `password`, `auth_id`) instead of through
 *   `outbound_auth` naming auth sections: a link is one resource of the API;
 * - `client_uri` and `server_uri` default to `sip:<username>@<host>` and `sip:<host>` (Asterisk
 *   requires both);
 * - `transport` is the protocol (`tcp`, `tls`, `udp` through a media node's SIP/UDP gateway, `wss`
 *   for SIP over WebSocket, RFC 7118), not a transport section; `ws_path` (sipedge's own) is the
 *   path of a `wss` link's WebSocket URL.
 *
 * The password lives beside the configuration, never inside it, so a view of the configuration can
 * never carry it.
 */

/** Every transport a link can use. */
export const KNOWN_TRANSPORTS = ['tcp', 'tls', 'udp', 'wss'] as const;

export type PbxTransport = (typeof KNOWN_TRANSPORTS)[number];

export interface PbxLinkConfig {
  readonly id: string;
  /** The SIP domain (tenant) the link belongs to; links stored before domains existed have none: SIPEDGE_DOMAIN's. */
  readonly domain?: string;
  readonly host: string;
  readonly port: number;
  readonly transport: PbxTransport;
  readonly register: boolean;
  /** Outbound calls of the domain's users may go through this link (routing offers it as a trunk). */
  readonly can_terminate: boolean;
  /** The user part of the default `client_uri`, and the digest username unless `auth_id` is set. */
  readonly username?: string;
  /** The digest username when it differs from `username`. */
  readonly auth_id?: string;
  /** A SIP URI; REGISTERs then go to it, with a Route to it (RFC 3261 §8.1.2). */
  readonly outbound_proxy?: string;
  /** The address-of-record: the To and From of the REGISTER (RFC 3261 §10.2). */
  readonly client_uri: string;
  /** The Request-URI of the REGISTER: the registrar's domain (RFC 3261 §10.2). */
  readonly server_uri: string;
  readonly contact_user: string;
  /** Header parameters appended to the Contact, written with their leading `;`. */
  readonly contact_header_params?: string;
  /** Seconds asked for in each REGISTER. */
  readonly expiration: number;
  readonly max_retries: number;
  readonly retry_interval: number;
  readonly forbidden_retry_interval: number;
  readonly fatal_retry_interval: number;
  readonly auth_rejection_permanent: boolean;
  readonly max_random_initial_delay: number;
  /** Adds `;line=<token>` to the Contact so that requests from the PBX name this link. */
  readonly line: boolean;
  /** Who takes calls that come in through this registration (used by inbound routing). */
  readonly endpoint?: string;
  readonly support_path: boolean;
  readonly support_outbound: boolean;
  readonly user_agent?: string;
  /** The path of a `wss` link's WebSocket URL (`/ws` for Asterisk); `/` when left out. */
  readonly ws_path?: string;
  /**
   * Asterisk's `qualify_frequency` (res_pjsip AoR): seconds between OPTIONS requests that check the
   * PBX answers, 0 (the default) for none. sipedge sends one only when the link timed no other
   * transaction for that long (`link-latency.ts`). Absent in links stored before it existed: 0.
   */
  readonly qualify_frequency?: number;
}

/** Asterisk's defaults (res_pjsip_outbound_registration), for what the operator leaves out. */
export const ASTERISK_DEFAULTS = {
  contact_user: 's',
  expiration: 3600,
  max_retries: 10,
  retry_interval: 60,
  forbidden_retry_interval: 0,
  fatal_retry_interval: 0,
  auth_rejection_permanent: true,
  max_random_initial_delay: 10,
  line: false,
  support_path: false,
  support_outbound: false,
  qualify_frequency: 0,
} as const;

/** RFC 3261 §19.1.2: 5060 for SIP over UDP and TCP, 5061 over TLS; RFC 7118 §5: 443 for WSS. */
export function defaultPort(transport: PbxTransport): number {
  return transport === 'tls' ? 5061 : transport === 'wss' ? 443 : 5060;
}

/**
 * What a link is known by at the PBX, made once when the link is created and kept across
 * replacements, so that refreshes and restarts update one binding instead of adding others:
 * - `contactHost`: RFC 7118 §5.2 has WebSocket clients, which cannot know their own address, put
 *   a `.invalid` host in Via and Contact; a Workers socket is in the same position, so the
 *   registrar must reach the link over its flow (RFC 5626, or NAT handling such as Kamailio's
 *   `fix_nated_register` or Asterisk's `rewrite_contact`);
 * - `instanceId`: the RFC 5626 §4.1 `+sip.instance` (a UUID URN, RFC 4122) with `support_outbound`;
 * - `line`: the token of Asterisk's `line` option.
 */
export interface LinkIdentity {
  readonly contactHost: string;
  readonly instanceId: string;
  readonly line: string;
}

function hex(bytes: number): string {
  return Array.from(crypto.getRandomValues(new Uint8Array(bytes)), (octet) => octet.toString(16).padStart(2, '0')).join('');
}

export function createLinkIdentity(): LinkIdentity {
  return { contactHost: `${hex(6)}.invalid`, instanceId: crypto.randomUUID(), line: hex(4) };
}

/** The digest username: `auth_id` when set, else `username`. */
export function authUsername(config: PbxLinkConfig): string | undefined {
  return config.auth_id ?? config.username;
}

/** The configuration as the API shows it: everything but the password, whose presence is told. */
export type PbxLinkConfigView = PbxLinkConfig & { readonly password_set: boolean };

export function configView(config: PbxLinkConfig, passwordSet: boolean): PbxLinkConfigView {
  return { ...config, password_set: passwordSet };
}
