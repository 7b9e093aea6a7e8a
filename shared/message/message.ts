/**
 * The SIP message as plain data (RFC 3261 §7).
 *
 * Messages are plain objects so that they can be copied, compared, and rebuilt without a class
 * hierarchy. Header fields keep the name and the value exactly as received (a relay must pass what
 * it does not understand, byte for byte); typed views (Via, CSeq, name-addr, ...) are parsed on
 * demand by the functions in `headers.ts` and the grammar modules.
 */

/** One header field line as received or as it will be written: `name: value`. */
export interface HeaderField {
  /** The name as written on the wire (`Via`, `v`, `VIA`); look-ups are case-insensitive and compact-aware. */
  readonly name: string;
  /** The raw value after the colon and leading whitespace, trailing whitespace removed; folds kept as received. */
  readonly value: string;
}

interface SipMessageBase {
  /** `SIP/2.0` as received (RFC 3261 §7.1); other versions parse, and an element answers 505. */
  readonly version: string;
  /** Header fields in wire order; a field may repeat and one field may carry several comma-separated values. */
  readonly headers: readonly HeaderField[];
  /** The message body, exactly Content-Length octets. */
  readonly body: Uint8Array;
}

export interface SipRequest extends SipMessageBase {
  readonly kind: 'request';
  /** Case-sensitive method token (RFC 3261 §7.1): `INVITE`, or any extension token. */
  readonly method: string;
  /** The Request-URI as received; parse with `parseUri` when its parts are needed. */
  readonly uri: string;
}

export interface SipResponse extends SipMessageBase {
  readonly kind: 'response';
  /** Three-digit status code, 100-699 (RFC 3261 §7.2). */
  readonly status: number;
  readonly reason: string;
}

export type SipMessage = SipRequest | SipResponse;
