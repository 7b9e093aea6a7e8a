/**
 * Replay protection for reused nonces (RFC 7616 §3.4 and §5.12): the server remembers the highest
 * nonce count it accepted per nonce and refuses anything not higher. That lets a device keep one
 * nonce across many refreshes (no 401 round trip each time) without letting a captured request
 * be played again.
 *
 * The structure is plain JSON held by the caller (in memory or persisted) and every function is
 * pure. Entries leave with their nonce's expiry, and at most `MAX_TRACKED_NONCES` are kept: a client
 * that takes a fresh challenge for every request (load generators, some desk phones) would otherwise
 * grow the record by one entry per request for a whole nonce lifetime, and every check walks it.
 * Dropping the oldest-issued entries raises `since` past them, so a dropped nonce is answered as
 * stale (one extra round trip for its device) and can never be replayed from nc=1.
 */

/** How many nonces one record tracks; a user's devices each hold one nonce at a time. */
export const MAX_TRACKED_NONCES = 64;

export interface NonceCountEntry {
  readonly nonce: string;
  /** The highest nc accepted for this nonce. */
  readonly nc: number;
  /** When the nonce expires (ms); the entry is pruned from then on. */
  readonly expiresAt: number;
  /** When the nonce was issued (ms); the oldest-issued entries are dropped first when the record is full. */
  readonly issuedAt: number;
}

export interface NonceCounts {
  /**
   * When this record began (ms). A nonce issued earlier but not listed may have been used while
   * an older record was in force (before an eviction, say), so its history is unknown and it is
   * refused as stale rather than trusted from nc=1.
   */
  readonly since: number;
  /**
   * One entry per nonce, in the order they were first accepted. An array, not an object keyed by
   * nonce: a record of tens of random keys turns a JavaScript object into a hash table that is slow
   * to copy, and this record is copied on every accepted request.
   */
  readonly nonces: readonly NonceCountEntry[];
  /** The earliest `expiresAt` among the entries, when there are any: pruning before then is free. */
  readonly nextExpiry?: number;
}

/** What the record says about one use of a nonce. */
export type NonceCountCheck = 'fresh' | 'replay' | 'history-unknown';

export function createNonceCounts(now: number): NonceCounts {
  return { since: now, nonces: [] };
}

function indexOf(counts: NonceCounts, nonce: string): number {
  // Newest last: the nonce a device is using is usually near the end.
  for (let index = counts.nonces.length - 1; index >= 0; index--) if (counts.nonces[index]?.nonce === nonce) return index;
  return -1;
}

/** The entry of `nonce`, when the record tracks it: its signature was checked when it was first accepted. */
export function nonceCountEntry(counts: NonceCounts, nonce: string): NonceCountEntry | undefined {
  const index = indexOf(counts, nonce);
  return index < 0 ? undefined : counts.nonces[index];
}

/** Whether `nc` may be accepted for `nonce`, issued at `issuedAt`. */
export function checkNonceCount(counts: NonceCounts, nonce: string, issuedAt: number, nc: number): NonceCountCheck {
  const entry = nonceCountEntry(counts, nonce);
  if (entry !== undefined) return nc > entry.nc ? 'fresh' : 'replay';
  return issuedAt < counts.since ? 'history-unknown' : 'fresh';
}

function earliestExpiry(nonces: readonly NonceCountEntry[]): number | undefined {
  let earliest: number | undefined;
  for (const entry of nonces) if (earliest === undefined || entry.expiresAt < earliest) earliest = entry.expiresAt;
  return earliest;
}

function withEntries(since: number, nonces: readonly NonceCountEntry[]): NonceCounts {
  const nextExpiry = earliestExpiry(nonces);
  return nextExpiry === undefined ? { since, nonces } : { since, nonces, nextExpiry };
}

/**
 * The record after accepting `nc` for `nonce`; a lower count never replaces a higher one. When the
 * record is full, the oldest-issued entries go and `since` moves past them (see the module comment).
 */
export function recordNonceCount(counts: NonceCounts, nonce: string, nc: number, expiresAt: number, issuedAt: number): NonceCounts {
  const index = indexOf(counts, nonce);
  const entry: NonceCountEntry = { nonce, nc, expiresAt, issuedAt };
  if (index >= 0) {
    if ((counts.nonces[index]?.nc ?? 0) >= nc) return counts;
    const nonces = counts.nonces.slice();
    nonces[index] = entry;
    return { ...counts, nonces };
  }
  const nonces = [...counts.nonces, entry];
  let since = counts.since;
  // Usually one entry over: a linear scan for the oldest beats sorting on every request.
  while (nonces.length > MAX_TRACKED_NONCES) {
    let oldest = 0;
    for (let at = 1; at < nonces.length; at++) if ((nonces[at]?.issuedAt ?? 0) < (nonces[oldest]?.issuedAt ?? 0)) oldest = at;
    since = Math.max(since, (nonces[oldest]?.issuedAt ?? 0) + 1);
    nonces.splice(oldest, 1);
  }
  return withEntries(since, nonces);
}

/** The record without the nonces that have expired by `now`; the same object when nothing changed. */
export function pruneNonceCounts(counts: NonceCounts, now: number): NonceCounts {
  if (counts.nextExpiry !== undefined && counts.nextExpiry > now) return counts;
  const live = counts.nonces.filter((entry) => entry.expiresAt > now);
  if (live.length === counts.nonces.length) return counts;
  return withEntries(counts.since, live);
}
