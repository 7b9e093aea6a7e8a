/**
 * UPDATE within an early dialog (RFC 3311 §5.1), relayed end to end like the PRACKs of the same
 * early dialog (`reliable-provisional.ts`): after a reliable 18x, the caller's device and the
 * callee's device may each send an UPDATE (a new offer, or a bodiless session-timer refresh,
 * RFC 4028 §7.4) before the INVITE is answered.
 *
 * ```
 *   caller's device        caller's half                 callee's half          callee's device
 *                                                        branch <--- 183, Require: 100rel, SDP
 *   UPDATE (early dialog) -> relayed ---------------------> UPDATE on the branch's early dialog ->
 *        <--- 200 <---------------------- answer <------------------------------- 200 -----
 *        <--- UPDATE on the caller's early dialog <----------- relayed <--- UPDATE (early dialog)
 * ```
 *
 * - The caller's device has one early dialog with the edge (the To tag of every response to its
 *   INVITE); on the callee's side the UPDATE goes to the branch whose reliable provisional
 *   responses reach the caller, the only one whose early dialog the caller is in step with.
 * - An UPDATE in an early dialog the edge does not know (another branch, or no reliable 18x yet,
 *   whose dialog the edge does not keep) gets 481, as RFC 3261 §12.2.2 says for a request matching
 *   no dialog.
 * - Each UPDATE takes the next CSeq of its early dialog; the dialog the 2xx confirms goes on from
 *   there (`confirmedDialog`, `answerCaller`), as it does after a PRACK.
 */
import { createDialogRequest, incomingRequestDialogId, receiveDialogRequest, type Dialog } from '../../shared/dialog/index.ts';
import { createResponse, type SipRequest } from '../../shared/message/index.ts';
import { DIALOG_ALLOW } from '../sip/edge-methods.ts';
import { edgeContact, edgeVia } from '../sip/edge-ua.ts';
import type { Branch, HalfCall } from './call-half.ts';
import type { CallStep } from './call-step.ts';
import { relayToPeer, sameDialog } from './dialog-relay.ts';
import type { PeerEvent } from './peer-event.ts';
import { bodyOptions, contentOf, EMPTY_CONTENT, passThrough, REQUEST_PASS_THROUGH } from './relay-content.ts';
import { updateBranch } from './reliable-provisional.ts';
import { intervalTooSmall } from './session-timer.ts';

type RequestEvent = Extract<PeerEvent, { type: 'request' }>;

/** An early dialog of this half and where its changes go: the caller's one, or a branch's. */
interface EarlyDialog {
  readonly dialog: Dialog;
  readonly branch?: Branch;
}

/** The UPDATE of this half's device while its INVITE is not answered yet. */
export function onEarlyUpdate(step: CallStep, request: SipRequest, key: string): void {
  const respond = (status: number, reason?: string, headers = [] as { name: string; value: string }[]): void =>
    step.sendResponse(key, createResponse(request, status, reason, { headers }));
  const id = incomingRequestDialogId(request);
  const early = id === undefined ? undefined : earlyDialogs(step.half).find((each) => sameDialog(each.dialog.id, id));
  if (early === undefined) return respond(481);
  const checked = receiveDialogRequest(early.dialog, request);
  if (!checked.accepted) return respond(checked.status, checked.reason);
  keep(step, early, checked.dialog);
  const tooSmall = intervalTooSmall(request, step.context.policy.minSessionExpires);
  if (tooSmall !== undefined) return respond(tooSmall.status, tooSmall.reason, [...tooSmall.headers]);
  const content = contentOf(request);
  if (content === undefined) return respond(415, 'Body Is Not UTF-8 Text');
  step.log('info', 'call.early-update', { from: step.half.role });
  relayToPeer(step, request, key, content, passThrough(request, REQUEST_PASS_THROUGH));
}

/** The peer relays an UPDATE of its device while the INVITE is not answered: the same UPDATE in this half's early dialog. */
export function updateToEarlyDialog(step: CallStep, event: RequestEvent): void {
  const half = step.half;
  const setup = half.setup;
  const early = setup.kind === 'caller'
    ? earlyDialogs(half)[0]
    : earlyDialogs(half).find((each) => each.branch?.index === setup.reliableBranch);
  if (early === undefined) {
    step.peer({ type: 'answer', relayId: event.relayId, status: 481, reason: 'Call/Transaction Does Not Exist', content: EMPTY_CONTENT, headers: [] });
    return;
  }
  const flow = step.deviceFlow(early.branch?.device);
  const { dialog, request } = createDialogRequest(early.dialog, 'UPDATE', {
    via: edgeVia(step.context.domain, flow.transport),
    contact: edgeContact(step.context.domain, flow.transport),
    headers: [...event.headers, { name: 'Allow', value: DIALOG_ALLOW }],
    ...bodyOptions(event.content),
  });
  keep(step, early, dialog);
  step.sendRequest(request, flow.connectionId, { kind: 'outbound', relayId: event.relayId, method: 'UPDATE' });
}

/** The early dialogs of the half: the caller's leg's, or each branch's (from its reliable 18x). */
function earlyDialogs(half: HalfCall): EarlyDialog[] {
  if (half.phase !== 'setup') return [];
  if (half.setup.kind === 'caller') return half.dialog?.state === 'early' ? [{ dialog: half.dialog }] : [];
  return half.setup.branches.flatMap((branch) => (branch.early !== undefined && branch.state !== 'failed' && branch.early.state !== 'terminated' ? [{ dialog: branch.early, branch }] : []));
}

function keep(step: CallStep, early: EarlyDialog, dialog: Dialog): void {
  if (early.branch === undefined) step.update({ dialog });
  else updateBranch(step, early.branch.index, { early: dialog });
}
