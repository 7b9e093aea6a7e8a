/**
 * What the half that owns a call (the caller's: a user's SipUser, or a PbxLink for a call from its
 * PBX) tells the domain's Directory about it: the start, the answer, the route through a link and
 * the end, each read from one step of the half (`CallPorts.callStepped`) and sent as a
 * `CallRecordUpdate`, batched per object (`CALL_RECORD_BATCH_MS`). For a call from a PBX, the user who answers adds its own leg (its Call-ID,
 * in its own trace), from its callee half; a ring group member's half is named `<call>-<n>`. Only transitions are sent, so a call costs its Directory three or four writes,
 * not one per message. The updates of one object go out in order, and never hold up the call: a
 * failed write is logged and the call goes on.
 *
 * Who hung up, from the event that ended the half: the caller's own device (its BYE or CANCEL),
 * the callee's side (its BYE, or a failure answer to the INVITE), or the edge (no answer, a session
 * timer, a lost flow, a media session that ended, no route).
 */
import { env } from 'cloudflare:workers';
import { getHeader, parseMessage } from '../../shared/message/index.ts';
import { parseNameAddr } from '../../shared/grammar/index.ts';
import type { CallEvent } from '../call/call-events.ts';
import type { HalfCall } from '../call/call-half.ts';
import type { CallEffect } from '../call/call-step.ts';
import { linkIdOf } from '../call/peer-event.ts';
import { errorFields, type Logger } from '../logger.ts';
import { parseMemberCallId } from '../pbx/ring-group.ts';
import type { CallRecordUpdate, EndedBy } from './call-records.ts';
import { directoryOf } from './directory.ts';

/**
 * Updates wait this long and go to the Directory together: a call's start, answer and end often
 * fall within one batch, and one RPC per batch instead of one per update is most of what records
 * cost a call (measured: 4-5 ms of CPU per call set-up with an RPC per update).
 */
export const CALL_RECORD_BATCH_MS = 200;

/** The `callStepped` port of one object's CallHost: its updates go to `domain`'s Directory, in order, in batches. */
export function callRecordFeed(domain: string, log: Logger, now: () => number): (before: HalfCall, after: HalfCall, event: CallEvent, effects: readonly CallEffect[]) => void {
  let pending: CallRecordUpdate[] = [];
  let sending: Promise<void> = Promise.resolve();
  const flush = (): void => {
    const batch = pending;
    pending = [];
    sending = sending.then(async () => {
      try {
        await directoryOf(env, domain).recordCalls(batch);
      } catch (error) {
        log.warn('call-record.write-failed', { calls: batch.map((update) => update.id), ...errorFields(error) });
      }
    });
  };
  return (before, after, event, effects) => {
    const update = callRecordUpdate(before, after, event, effects, domain, now());
    if (update === undefined) return;
    pending.push(update);
    if (pending.length === 1) setTimeout(flush, CALL_RECORD_BATCH_MS);
  };
}

/** The record update one step of an owning half makes, if any. Pure. */
export function callRecordUpdate(
  before: HalfCall,
  after: HalfCall,
  event: CallEvent,
  effects: readonly CallEffect[],
  domain: string,
  now: number,
): CallRecordUpdate | undefined {
  if (after.setup.kind !== 'caller') return answeredFromPbx(before, after);
  const parts: CallRecordUpdate[] = [];
  // The caller's INVITE is the first event of its half: nothing is under way before it.
  if (before.phase === 'setup' && Object.keys(before.purposes).length === 0) parts.push(started(after, domain, now));
  const link = linkIdOf(after.peerAor);
  if (link !== undefined && link !== linkIdOf(before.peerAor)) parts.push({ id: after.id, direction: 'outbound', linkId: link });
  if (before.phase === 'setup' && after.phase === 'confirmed') {
    const final = finalResponse(effects);
    parts.push({ id: after.id, answeredAt: now, ...(final === undefined ? {} : final) });
  }
  if (before.phase !== 'ended' && after.phase === 'ended') parts.push(ended(before, event, effects, now));
  if (parts.length === 0) return undefined;
  return Object.assign({}, ...parts) as CallRecordUpdate;
}

function started(half: HalfCall, domain: string, now: number): CallRecordUpdate {
  const fromLink = linkIdOf(half.aor);
  const callee = userPart(half.peerAor);
  const calleeIsUser = half.peerAor.slice(half.peerAor.lastIndexOf('@') + 1).toLowerCase() === domain.toLowerCase();
  if (fromLink !== undefined) {
    // The user's leg (and with it the ladder) is known once a user answers: `answeredFromPbx`.
    return {
      id: half.id,
      startedAt: now,
      caller: callerOfInvite(half) ?? half.aor,
      callee: calleeIsUser ? callee : 'ring group',
      direction: 'inbound',
      linkId: fromLink,
      ...(calleeIsUser ? { user: callee } : {}),
    };
  }
  const caller = userPart(half.aor);
  return {
    id: half.id,
    startedAt: now,
    caller,
    callee,
    direction: 'local',
    user: caller,
    ...(calleeIsUser ? { peerUser: callee } : {}),
    sipCallId: half.callId,
  };
}

/** The user who answered a call from a PBX: its leg is the record's, and so is its trace. */
function answeredFromPbx(before: HalfCall, after: HalfCall): CallRecordUpdate | undefined {
  if (linkIdOf(after.peerAor) === undefined || before.phase !== 'setup' || after.phase !== 'confirmed') return undefined;
  const user = userPart(after.aor);
  return { id: parseMemberCallId(after.id)?.callId ?? after.id, callee: user, user, sipCallId: after.callId };
}

function ended(before: HalfCall, event: CallEvent, effects: readonly CallEffect[], now: number): CallRecordUpdate {
  const final = before.phase === 'setup' ? finalResponse(effects) : undefined;
  return { id: before.id, endedAt: now, ...(final === undefined ? {} : final), ...whyEnded(before, event, final?.status) };
}

/** Who ended the call, and why, from the event that ended the owning half. */
function whyEnded(before: HalfCall, event: CallEvent, status: number | undefined): { readonly endedBy: EndedBy; readonly endReason: string } {
  switch (event.type) {
    case 'device-request':
      return { endedBy: 'caller', endReason: `${event.request.method} from the caller` };
    case 'peer':
      if (event.event.type === 'bye') return { endedBy: 'callee', endReason: event.event.reason ?? 'BYE from the callee' };
      return { endedBy: 'callee', endReason: status === undefined ? 'ended by the callee' : `the callee answered ${status}` };
    case 'offer-refused':
      return { endedBy: 'edge', endReason: `the callee cannot take calls (${event.status} ${event.reason})` };
    case 'hang-up':
      return { endedBy: 'edge', endReason: event.reason };
    case 'timers':
      if (before.phase !== 'setup') return { endedBy: 'edge', endReason: 'session timer expired' };
      return { endedBy: 'edge', endReason: status === 480 ? 'no answer' : `a timer of the set-up ran out (${status ?? 'no answer sent'})` };
    case 'routed':
      return { endedBy: 'edge', endReason: 'no route' };
    case 'replaced':
      return { endedBy: 'edge', endReason: 'replaced by an attended transfer (RFC 3891)' };
    case 'transport-error':
      return { endedBy: 'edge', endReason: "the caller's connection failed" };
    case 'peer-unreachable':
      return { endedBy: 'edge', endReason: 'the other side could not be reached' };
    default:
      return { endedBy: 'edge', endReason: event.type };
  }
}

/** The last final response to the caller's INVITE among a step's sends. */
function finalResponse(effects: readonly CallEffect[]): { readonly status: number; readonly reason: string } | undefined {
  let found: { readonly status: number; readonly reason: string } | undefined;
  for (const effect of effects) {
    if (effect.type !== 'send' || !effect.wire.startsWith('SIP/2.0 ')) continue;
    if (!/\r\nCSeq:[ \t]*\d+[ \t]+INVITE[ \t]*\r\n/i.test(effect.wire)) continue;
    const match = /^SIP\/2\.0 (\d{3}) ([^\r\n]*)/.exec(effect.wire);
    const status = Number(match?.[1]);
    if (status >= 200) found = { status, reason: match?.[2] ?? '' };
  }
  return found;
}

/** A PBX caller's number (or name), as the From of its INVITE gives it. */
function callerOfInvite(half: HalfCall): string | undefined {
  if (half.setup.kind !== 'caller') return undefined;
  try {
    const from = getHeader(parseMessage(half.setup.invite), 'From');
    if (from === undefined) return undefined;
    const uri = parseNameAddr(from).uri;
    return uri.kind === 'sip' ? (uri.user ?? uri.host) : undefined;
  } catch {
    return undefined;
  }
}

function userPart(aor: string): string {
  const at = aor.lastIndexOf('@');
  return at < 0 ? aor : aor.slice(0, at);
}
