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
  readonly nonces: Readonly<Record<string, NonceCountEntry>>;
}

/** What the record says about one use of a nonce. */
export type NonceCountCheck = 'fresh' | 'replay' | 'history-unknown';

export function createNonceCounts(now: number): NonceCounts {
  return { since: now, nonces: {} };
}

function entryOf(counts: NonceCounts, nonce: string): NonceCountEntry | undefined {
  return Object.hasOwn(counts.nonces, nonce) ? counts.nonces[nonce] : undefined;
}

/** Whether `nc` may be accepted for `nonce`, issued at `issuedAt`. */
export function checkNonceCount(counts: NonceCounts, nonce: string, issuedAt: number, nc: number): NonceCountCheck {
  const entry = entryOf(counts, nonce);
  if (entry !== undefined) return nc > entry.nc ? 'fresh' : 'replay';
  return issuedAt < counts.since ? 'history-unknown' : 'fresh';
}

/**
 * The record after accepting `nc` for `nonce`; a lower count never replaces a higher one. When the
 * record is full, the oldest-issued entries go and `since` moves past them (see the module comment).
 */
export function recordNonceCount(counts: NonceCounts, nonce: string, nc: number, expiresAt: number, issuedAt: number): NonceCounts {
  const previous = entryOf(counts, nonce);
  if (previous !== undefined && previous.nc >= nc) return counts;
  const nonces: Record<string, NonceCountEntry> = { ...counts.nonces, [nonce]: { nc, expiresAt, issuedAt } };
  let size = Object.keys(nonces).length;
  let since = counts.since;
  // Usually one entry over: a linear scan for the oldest beats sorting on every request.
  while (size > MAX_TRACKED_NONCES) {
    let oldest: string | undefined;
    let oldestIssuedAt = Infinity;
    for (const name in nonces) {
      const issued = nonces[name]?.issuedAt ?? 0;
      if (issued < oldestIssuedAt) [oldest, oldestIssuedAt] = [name, issued];
    }
    if (oldest === undefined) break;
    since = Math.max(since, oldestIssuedAt + 1);
    delete nonces[oldest];
    size--;
  }
  return { since, nonces };
}

/** The record without the nonces that have expired by `now`; the same object when nothing changed. */
export function pruneNonceCounts(counts: NonceCounts, now: number): NonceCounts {
  const live = Object.entries(counts.nonces).filter(([, entry]) => entry.expiresAt > now);
  if (live.length === Object.keys(counts.nonces).length) return counts;
  return { since: counts.since, nonces: Object.fromEntries(live) };
}
