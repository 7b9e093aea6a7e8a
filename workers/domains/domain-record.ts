/**
 * A SIP domain served by this edge: a tenant. Its users, PBX links, routes, tokens, call records and
 * traces belong to it and to nothing else. The installation's own domain (SIPEDGE_DOMAIN) always
 * exists; operators add more through `POST /api/v1/domains`.
 *
 * A domain is reached by its name or one of its aliases (other host names phones put in a REGISTER's
 * Request-URI or To URI, e.g. `sip.example.com`); names and aliases are lower case, unique across
 * the edge.
 */

/** How much a domain keeps; storage never grows without limit. */
export interface DomainRetention {
  /** Call detail records kept (the newest), and for how long. */
  readonly callRecords: number;
  readonly callRecordDays: number;
  /** Each user's SIP trace: records, KiB and hours kept. */
  readonly traceRecords: number;
  readonly traceKiB: number;
  readonly traceHours: number;
}

export const DEFAULT_RETENTION: DomainRetention = {
  callRecords: 10_000,
  callRecordDays: 30,
  traceRecords: 2_000,
  traceKiB: 2_048,
  traceHours: 24,
};

/** Bounds an operator may set (the API validates against these). */
export const RETENTION_LIMITS: { readonly [K in keyof DomainRetention]: readonly [min: number, max: number] } = {
  callRecords: [100, 100_000],
  callRecordDays: [1, 400],
  traceRecords: [100, 20_000],
  traceKiB: [64, 16_384],
  traceHours: [1, 24 * 31],
};

export interface DomainRecord {
  /** The SIP domain, lower case (the realm of its users' digest challenges). */
  readonly name: string;
  readonly displayName?: string;
  readonly aliases: readonly string[];
  readonly retention: DomainRetention;
  /** ms since the epoch; 0 for the installation's domain when never written. */
  readonly createdAt: number;
  /** SIPEDGE_DOMAIN: cannot be deleted; its token is the SIPEDGE_OPERATOR_TOKEN secret. */
  readonly installation: boolean;
}

/** A host name as domains and aliases are kept: lower case, no trailing dot, no port. */
export function domainKey(host: string): string {
  const lower = host.trim().toLowerCase().replace(/\.$/, '');
  // An IPv6 reference keeps its brackets; a port after a name or an IPv4 address goes.
  return lower.startsWith('[') ? lower.replace(/\]:\d+$/, ']') : lower.replace(/:\d+$/, '');
}

/** RFC 3261 hostname or IPv4 address (what a domain or alias may be). */
export function isDomainName(text: string): boolean {
  if (text.length === 0 || text.length > 253) return false;
  if (/^\d{1,3}(\.\d{1,3}){3}$/.test(text)) return text.split('.').every((octet) => Number(octet) <= 255);
  return text.split('.').every((label) => /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/.test(label));
}
