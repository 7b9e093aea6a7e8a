/**
 * A dialog (RFC 3261 §12) as plain JSON: the peer-to-peer relationship that an INVITE (or a
 * SUBSCRIBE, or a REFER) sets up, and that every later request between the two parties travels in.
 *
 * Header values are kept as strings exactly as they go on the wire (From and To with their tags,
 * Route values, URIs), so building the next request is string assembly, and a dialog stored by a
 * Durable Object before a deploy builds the same requests after it.
 */

/** RFC 3261 §12: "A dialog is identified at each UA with a dialog ID, which consists of a Call-ID value, a local tag and a remote tag." */
export interface DialogId {
  readonly callId: string;
  readonly localTag: string;
  readonly remoteTag: string;
}

/**
 * RFC 3261 §12: early (created by a provisional response), confirmed (by a 2xx), and terminated
 * (BYE, a failure response ending an early dialog, or 481/408 to an in-dialog request).
 */
export type DialogState = 'early' | 'confirmed' | 'terminated';

export interface Dialog {
  readonly id: DialogId;
  /** Whether this UA sent (`uac`) or received (`uas`) the request that created the dialog. */
  readonly role: 'uac' | 'uas';
  readonly state: DialogState;
  /** RFC 3261 §12.1: the local URI with the local tag, as the From of every request this UA sends. */
  readonly local: string;
  /** The remote URI with the remote tag, as the To of every request this UA sends. */
  readonly remote: string;
  /** RFC 3261 §12.2.1.1: CSeq of the last request sent; absent ("empty") until this UA sends one. */
  readonly localSeq?: number;
  /** RFC 3261 §12.2.2: CSeq of the last request received; absent until the peer sends one. */
  readonly remoteSeq?: number;
  /** The URI of the peer's Contact: where in-dialog requests go (RFC 3261 §12.1.1, §12.1.2). */
  readonly remoteTarget: string;
  /** This UA's own Contact value, repeated in target refresh requests unless it changes (RFC 3261 §12.2.1.1). */
  readonly localContact?: string;
  /** RFC 3261 §12.1: the Route values for in-dialog requests, in the order they are to be visited. */
  readonly routeSet: readonly string[];
  /** RFC 3261 §12.1.1/§12.1.2: set when the dialog was created with a SIPS Request-URI. */
  readonly secure: boolean;
  /** CSeq number of the last INVITE this UA sent in the dialog: the ACK for its 2xx reuses it (§13.2.2.4). */
  readonly inviteSeq?: number;
}

/** Thrown when a message cannot create or be used with a dialog; the message says which rule it breaks. */
export class DialogError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DialogError';
  }
}

/**
 * One string per dialog, for tables and storage keys. Call-ID words and tags hold no whitespace
 * (RFC 3261 §25.1), so a space keeps the three parts apart.
 */
export function dialogKey(id: DialogId): string {
  return `${id.callId} ${id.localTag} ${id.remoteTag}`;
}

/**
 * Target refresh requests: those whose Contact replaces the remote target (RFC 3261 §12.2). INVITE
 * is RFC 3261's own; UPDATE comes from RFC 3311, SUBSCRIBE and NOTIFY from RFC 6665, REFER from
 * RFC 3515 as clarified by RFC 7647.
 */
export const TARGET_REFRESH_METHODS: ReadonlySet<string> = new Set(['INVITE', 'UPDATE', 'SUBSCRIBE', 'NOTIFY', 'REFER']);
