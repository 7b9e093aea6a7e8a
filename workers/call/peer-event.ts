/**
 * What the two halves of a call say to each other over Durable Object RPC (see `call-half.ts`).
 * Plain data: structured-cloned between objects, and never stored as such.
 *
 * Bodies travel as text: SIP over WebSocket carries UTF-8 text frames (RFC 7118 §5), and SDP and
 * the message bodies the edge relays are text.
 */
import type { HeaderField } from '../../shared/message/index.ts';
import type { TrunkAttempt } from '../routing/routing-contract.ts';
import type { HalfRole } from './call-half.ts';

export interface Content {
  readonly contentType?: string;
  readonly body: string;
}

/** The relay id of a call's initial INVITE; in-dialog requests get random ones. */
export const INVITE_RELAY = 'invite';

export type PeerEvent =
  /** A request from the peer's device within the dialog: send it on this leg and answer with `answer`. */
  | { readonly type: 'request'; readonly relayId: string; readonly method: string; readonly content: Content; readonly headers: readonly HeaderField[] }
  /** The answer to a request this half relayed (a provisional or a final response). */
  | { readonly type: 'answer'; readonly relayId: string; readonly status: number; readonly reason: string; readonly content: Content; readonly headers: readonly HeaderField[] }
  /** The peer's device acknowledged the 2xx to the INVITE `relayId` (RFC 3261 §13.2.2.4): ACK on this leg. */
  | { readonly type: 'ack'; readonly relayId: string; readonly content: Content }
  /** The caller gave up before an answer (its CANCEL, or the no-answer timer). */
  | { readonly type: 'cancel'; readonly reason?: string }
  /** The peer's leg is over (a BYE, a lost ACK, a failed flow): end this one. */
  | { readonly type: 'bye'; readonly reason?: string }
  /**
   * An attended transfer (`attended-transfer.ts`) joins this leg to `peer`, another call's leg,
   * under `relayId`: the `offerer` re-INVITEs its device without an offer and relays the 2xx's
   * offer; the other re-INVITEs its device with that offer, ACKs the offerer's with the answer,
   * and tells `report` (the transferor's leg) how it went. With `offer` (an INVITE with Replaces),
   * the offerer's re-INVITE carries it, and its device's answer goes to `peer` as the INVITE's.
   */
  | { readonly type: 'join'; readonly relayId: string; readonly peer: HalfAddress; readonly offerer: boolean; readonly report?: HalfAddress; readonly offer?: Content }
  /** The outcome of a join, for the transferor's leg that asked for it (its NOTIFY's sipfrag). */
  | { readonly type: 'joined'; readonly status: number; readonly reason: string };

/**
 * A PbxLink takes part in calls as a user's object does, with its PBX in the place of the user's
 * devices: its address in calls (`HalfAddress.aor`, `CallOffer.callerAor` and `calleeAor`) is
 * `link:<link id>`, which no user's address-of-record (`user@domain`) can be.
 */
const LINK_AOR_PREFIX = 'link:';

export function linkAor(linkId: string): string {
  return `${LINK_AOR_PREFIX}${linkId}`;
}

/** The link id of a link's address in calls; undefined for a user's address-of-record. */
export function linkIdOf(aor: string): string | undefined {
  return aor.startsWith(LINK_AOR_PREFIX) ? aor.slice(LINK_AOR_PREFIX.length) : undefined;
}

/** Where a peer event goes: the half of `role` of call `id` in the object of `aor` (a user's, or a link's: `linkAor`). */
export interface HalfAddress {
  readonly aor: string;
  readonly role: HalfRole;
  readonly id: string;
}

/** The caller's half asks the callee's object to fork the call. */
export interface CallOffer {
  readonly id: string;
  readonly callerAor: string;
  /** The callee's address-of-record. */
  readonly calleeAor: string;
  /** From of the callee's leg: the caller's AOR, with the display name its device gave. */
  readonly from: string;
  /** To of the callee's leg: the To the caller dialled, without a tag. */
  readonly to: string;
  /** The offer (SDP), passed through. */
  readonly content: Content;
  readonly headers: readonly HeaderField[];
  /** Toward a PbxLink: the attempt of the routing plan (the number to dial and the caller ID to send). */
  readonly trunk?: TrunkAttempt;
  /** RFC 5627: the caller dialled a GRUU; only the callee's device with this instance (the `gr` URN) rings. */
  readonly gruu?: string;
}

/** The callee's object refused the offer outright (no such user, nobody registered), or took it. */
export type OfferResult = { readonly ok: true } | { readonly ok: false; readonly status: number; readonly reason: string };
