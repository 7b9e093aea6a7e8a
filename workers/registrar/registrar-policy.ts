/**
 * The registrar's numbers, in one place.
 *
 * Expiry bounds (DESIGN.md, cost): a row write costs about $1 per million, and a device refreshes
 * every few minutes, so a refresh that changes nothing must not write. The exact expiry lives in
 * memory; storage keeps an upper bound that a refresh only moves when the exact expiry passes it.
 * The bound runs `boundRefreshes` registration intervals ahead (at most `maxBoundSlackMs`), so
 * about one refresh in that many writes a row, and a restarted object that lost the exact expiry
 * keeps a device that has gone away for no longer than that slack.
 */
export interface RegistrarPolicy {
  /** RFC 3261 §10.3 step 7: shorter non-zero intervals get 423 with this Min-Expires (seconds). */
  readonly minExpires: number;
  /** Longer intervals are shortened to this (RFC 3261 §10.3 step 7 allows a registrar to). */
  readonly maxExpires: number;
  /** When the REGISTER states none (RFC 3261 §10.2.1.1: the registrar chooses). */
  readonly defaultExpires: number;
  /** Contacts per address-of-record; more are refused with 403. */
  readonly maxBindings: number;
  readonly boundRefreshes: number;
  readonly maxBoundSlackMs: number;
}

export const DEFAULT_REGISTRAR_POLICY: RegistrarPolicy = {
  minExpires: 60,
  maxExpires: 3600,
  defaultExpires: 600,
  maxBindings: 16,
  boundRefreshes: 12,
  maxBoundSlackMs: 3_600_000,
};

/** The stored bound for a binding that expires at `expiresAt` after an interval of `expires` seconds. */
export function expiryBound(expiresAt: number, expires: number, policy: RegistrarPolicy): number {
  return expiresAt + Math.min(policy.maxBoundSlackMs, policy.boundRefreshes * expires * 1000);
}
