/**
 * A call between two users of the edge, as the B2BUA keeps it: two halves, each a plain-JSON value
 * that the SipUser object of one party persists (a row per half, `call-store.ts`).
 *
 * Who owns what (the decision, and why):
 * - The **caller's SipUser owns the call.** Its half holds the caller's leg: the edge is the UAS of
 *   the caller's INVITE, and this half alone decides how the set-up ends. It answers the caller,
 *   runs the no-answer timer on its alarm, takes the caller's CANCEL, and tells the callee's half
 *   to give up.
 * - **The callee's SipUser owns the fork.** Its half holds the callee's leg: the edge is the UAC of
 *   an INVITE to every registered contact of the callee, in parallel, each over the flow of its
 *   binding. It relays 180/183, picks the first 2xx, CANCELs the other branches (RFC 3326 Reason
 *   "Call completed elsewhere") and reports one outcome: the 2xx, or the best failure.
 * - The split follows the routing the SipConnection objects already do (requests by From,
 *   responses by To): every message a device sends about a call lands in its own user's object,
 *   which holds that device's transactions and dialog. Nothing is forwarded twice, each object's
 *   alarm runs only its own leg's timers, and no object needs another user's bindings.
 * - The halves talk over Durable Object RPC (`SipUser.offerCall`, `SipUser.callEvent`) in
 *   `PeerEvent`s: in-dialog requests and their answers relayed end to end (re-INVITE, UPDATE, INFO,
 *   MESSAGE, OPTIONS), the ACK of each 2xx, CANCEL and BYE. Each leg is its own dialog (own Call-ID,
 *   tags and CSeq, `shared/dialog`) with its own transactions (`shared/transaction`, reliable
 *   transport); bodies pass through unchanged, since both ends are WebRTC.
 *
 * ```
 *   caller's half (caller's SipUser)                callee's half (callee's SipUser)
 *   INVITE, authenticated (407 first)
 *   100 Trying, offer ----------------------------> setup: INVITE to every contact (fork)
 *   setup  <-------------------- answer 18x -------  a branch rings (183 carries early SDP)
 *     | 18x to the caller
 *     |    <-------------------- answer 2xx -------  first 2xx wins: confirmed; CANCEL the others
 *     v 2xx to the caller (retransmitted until ACK)
 *   confirmed ------------------ ack -------------->  ACK to the winner
 *     |  <-- request / answer / ack, both ways -->  |   re-INVITE, UPDATE, INFO, MESSAGE
 *     |  BYE from either device: 200 at once, bye ->|   BYE to the other device
 *   ended                                          ended
 *
 *   set-up failures end both halves: the caller's CANCEL, the no-answer alarm (480), the fork's
 *   best failure (all busy 486, nobody reachable 480, 603 wins), an unreachable peer (503).
 * ```
 *
 * In-call features, each in its own module over the same half: blind transfer (RFC 3515 REFER and
 * its NOTIFYs, `refer-transfer.ts`), attended transfer (RFC 3891 Replaces, `attended-transfer.ts`:
 * the transferee's and the target's halves become each other's peers, `peer`), UPDATE before the
 * answer (RFC 3311, `early-update.ts`), session timers (RFC 4028, `session-timer.ts`: a `session`
 * timer per leg on the alarm), and reliable provisional responses with PRACK (RFC 3262,
 * `reliable-provisional.ts`: the caller's pending one in `reliable`, each branch's early dialog).
 *
 * A half is removed once ended and its transactions are over (its row once it has ended: only a
 * call under way needs to survive an eviction). Because the whole half is stored after every
 * change until then, an evicted object, or a device whose socket dropped and which registered
 * again over a new flow, carries on with the dialog: requests to a device go over the current flow
 * of its binding (RFC 5626 §5.3), and a request from the device over a new flow moves the leg there.
 */
import type { TimerSet } from '../../shared/clock/index.ts';
import type { Dialog } from '../../shared/dialog/index.ts';
import type { SuccessRetransmission } from '../../shared/dialog/index.ts';
import type { TransactionTable } from '../../shared/transaction/index.ts';
import type { TrunkAttempt } from '../routing/routing-contract.ts';
import type { Flow } from '../sip/flow.ts';
import type { Join } from './attended-transfer.ts';
import type { HalfAddress } from './peer-event.ts';
import type { PendingReliable } from './reliable-provisional.ts';

export type HalfRole = 'caller' | 'callee';

/**
 * setup: the INVITE is pending (the caller's half waits for the fork's answer; the callee's half
 * forks); confirmed: the dialog of this leg is up; ended: the leg is over, or going, and the half
 * stays only until its transactions end.
 */
export type CallPhase = 'setup' | 'confirmed' | 'ended';

/** A device of this half's user and the way to it. */
export interface DeviceRef {
  /** Its registration binding, when it has one: the binding's flow is the current way to it. */
  readonly bindingKey?: string;
  /** The flow last known for it (the SipConnection id): where its last request came from. */
  readonly connectionId: string;
  readonly transport: Flow['transport'];
}

/** One branch of the callee's fork: the INVITE to one registered contact. */
export interface Branch {
  readonly index: number;
  readonly device: DeviceRef;
  /** The INVITE client transaction's key. */
  readonly key: string;
  /** The INVITE as sent: the source of its CANCEL, and of the dialog a 2xx creates. */
  readonly request: string;
  /** calling: nothing heard; trying: 100 only; ringing: 101-199; answered: 2xx; failed: 300-699, timeout, flow failure. */
  readonly state: 'calling' | 'trying' | 'ringing' | 'answered' | 'failed';
  readonly status?: number;
  /** RFC 4028 §6: the Min-SE of the branch's 422, passed to the caller if 422 is the fork's answer. */
  readonly minSe?: number;
  /** RFC 3262: the early dialog of the branch's reliable provisional responses, in which PRACKs go. */
  readonly early?: Dialog;
  /** RFC 3262 §4: the highest RSeq received on the branch; a response at or below it is a retransmission. */
  readonly rseq?: number;
  /**
   * RFC 3261 §9.1: a CANCEL may go only once a provisional response came back; until then it is
   * `wanted`, and goes with the first one.
   */
  readonly cancel: 'no' | 'wanted' | 'sent';
  /** The Reason (RFC 3326) the CANCEL carries. */
  readonly cancelReason?: string;
  /** The INVITE was sent again with credentials after a 401/407 (`trunk-auth.ts`); a second challenge is a failure. */
  readonly authorized?: boolean;
  /** The INVITE was sent again with the 422's Min-SE (`session-timer.ts`, toward a PBX); a second 422 is a failure. */
  readonly minSeRetried?: boolean;
}

export interface CallerSetup {
  readonly kind: 'caller';
  /** The server transaction of the caller's INVITE. */
  readonly inviteKey: string;
  /** The caller's INVITE as received: every response to it is built from it. */
  readonly invite: string;
  /** The To tag of every response on the caller's leg: the caller sees one dialog, whichever branch answers. */
  readonly toTag: string;
  /** Routed off the domain by the routing plan (`planOutbound`): the call holds a concurrency slot until it ends. */
  readonly routed?: boolean;
  /** The plan's trunk attempts not tried yet, in order: the next one is tried when the current one fails over (408, 5xx). */
  readonly attempts?: readonly TrunkAttempt[];
}

export interface CalleeSetup {
  readonly kind: 'callee';
  readonly branches: readonly Branch[];
  /** The branch whose 2xx won. */
  readonly winner?: number;
  /** The branch whose early SDP (183) the caller got: only one early answer can reach the caller's one dialog. */
  readonly earlyMedia?: number;
  /** The branch whose reliable provisional responses (RFC 3262) reach the caller, and which gets its PRACKs. */
  readonly reliableBranch?: number;
}

/** A request from this half's device that waits for the peer's answer. */
export interface InboundRelay {
  readonly relayId: string;
  /** Its server transaction. */
  readonly key: string;
  readonly method: string;
  /** The request as received, to build the response from. */
  readonly request: string;
}

/** What each live transaction of a half is for, by transaction key. */
export type Purpose =
  /** The caller's INVITE (server). */
  | { readonly kind: 'invite' }
  /** A branch's INVITE (client). */
  | { readonly kind: 'branch'; readonly index: number }
  /** A request of this half's device relayed to the peer (server). */
  | { readonly kind: 'inbound'; readonly relayId: string }
  /** A request relayed from the peer to this half's device (client). */
  | { readonly kind: 'outbound'; readonly relayId: string; readonly method: string; readonly answered?: boolean }
  /** Handled here and nowhere else: CANCELs, BYEs, the 200 to a BYE or CANCEL. */
  | { readonly kind: 'local'; readonly method: string };

export interface HalfCall {
  /** The call's id, the same in both halves. */
  readonly id: string;
  readonly role: HalfRole;
  /** This half's user, and the other party's. */
  readonly aor: string;
  readonly peerAor: string;
  readonly phase: CallPhase;
  /** The Call-ID of this half's leg: the caller's own, or one the edge chose for the callee's leg. */
  readonly callId: string;
  readonly createdAt: number;
  /** This half's device: the caller's, or the callee's that answered (until then the fork's first). */
  readonly device: DeviceRef;
  /** This leg's dialog with the device (the edge's side of it), once there is one. */
  readonly dialog?: Dialog;
  readonly setup: CallerSetup | CalleeSetup;
  readonly transactions: TransactionTable;
  /** The half's own timers: `no-answer`, `relay <id>`, `success`, `session`, `reliable`. Transaction timers live in `transactions`. */
  readonly timers: TimerSet;
  readonly purposes: Readonly<Record<string, Purpose>>;
  readonly inbound: Readonly<Record<string, InboundRelay>>;
  /** RFC 3261 §13.3.1.4: the 2xx to the device's INVITE, retransmitted until its ACK. */
  readonly success?: { readonly relayId: string; readonly state: SuccessRetransmission };
  /** The device's 2xx to an INVITE from the edge waits for the peer's ACK (relayed end to end, it may carry SDP). */
  readonly awaitingAck?: string;
  /** The last ACK sent for a 2xx, sent again when the device retransmits that 2xx. */
  readonly lastAck?: string;
  /** RFC 3262 §3: the reliable provisional response to the caller's INVITE awaiting its PRACK (`reliable-provisional.ts`). */
  readonly reliable?: PendingReliable;
  /** The peer half when it is no longer this call's other half: an attended transfer joined this leg to another call's. */
  readonly peer?: HalfAddress;
  /** This leg's part in an attended transfer under way (`attended-transfer.ts`). */
  readonly join?: Join;
}

/** Where this half's peer events go. */
export function peerAddress(half: HalfCall): HalfAddress {
  return half.peer ?? { aor: half.peerAor, role: peerRole(half.role), id: half.id };
}

/** The key of a half in its object: both halves of a call to oneself live in one object. */
export function halfKey(role: HalfRole, id: string): string {
  return `${role} ${id}`;
}

export function peerRole(role: HalfRole): HalfRole {
  return role === 'caller' ? 'callee' : 'caller';
}

/** Over, with nothing left to absorb: the half can be forgotten. */
export function isFinished(half: HalfCall): boolean {
  return half.phase === 'ended' && Object.keys(half.transactions.transactions).length === 0 && half.timers.length === 0;
}

/** The earliest deadline of any timer of the half, transaction timers included. */
export function halfDeadline(half: HalfCall): number | undefined {
  const own = half.timers[0]?.deadline;
  const transactions = half.transactions.timers[0]?.deadline;
  if (own === undefined) return transactions;
  if (transactions === undefined) return own;
  return Math.min(own, transactions);
}
