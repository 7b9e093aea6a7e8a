/**
 * How messages exchanged within a dialog change it: CSeq ordering and target refresh for requests
 * received (RFC 3261 §12.2.2), target refresh and confirmation for responses received
 * (§12.2.1.2, §13.2.2.4), and termination (§12.3, §15).
 */
import { getCSeq, getHeader, getHeaders } from '../message/index.ts';
import type { SipRequest, SipResponse } from '../message/message.ts';
import { contactUri } from './create-dialog.ts';
import { DialogError, TARGET_REFRESH_METHODS, type Dialog } from './dialog-state.ts';

/** What the UAS core does with a request received in the dialog. */
export type DialogRequestResult =
  | { readonly accepted: true; readonly dialog: Dialog }
  /** Answer the request with `status` and leave the dialog as it was. */
  | { readonly accepted: false; readonly status: 481 | 500; readonly reason: string; readonly dialog: Dialog };

/**
 * RFC 3261 §12.2.2: a request received within the dialog.
 *
 * - CSeq: "If the remote sequence number was not empty, but the sequence number of the request is
 *   lower than the remote sequence number, the request is out of order and MUST be rejected with a
 *   500 (Server Internal Error) response." Otherwise the remote sequence number becomes the request's.
 *   ACK and CANCEL reuse the number of the request they belong to and are not checked.
 * - Target refresh: "When a UAS receives a target refresh request, it MUST replace the dialog's
 *   remote target URI with the URI from the Contact header field in that request, if present."
 * - BYE terminates the dialog (RFC 3261 §15.1.2); the UAS still answers it 200.
 * - A request for a terminated dialog gets 481 (RFC 3261 §12.2.2).
 */
export function receiveDialogRequest(dialog: Dialog, request: SipRequest): DialogRequestResult {
  if (dialog.state === 'terminated') {
    return { accepted: false, status: 481, reason: 'Call/Transaction Does Not Exist', dialog };
  }
  if (request.method === 'ACK' || request.method === 'CANCEL') return { accepted: true, dialog };
  const cseq = getCSeq(request);
  if (cseq === undefined) throw new DialogError(`the ${request.method} has no CSeq`);
  if (dialog.remoteSeq !== undefined && cseq.seq < dialog.remoteSeq) {
    return {
      accepted: false,
      status: 500,
      reason: `CSeq ${cseq.seq} is lower than ${dialog.remoteSeq}: request out of order`,
      dialog,
    };
  }
  let next: Dialog = { ...dialog, remoteSeq: cseq.seq };
  if (TARGET_REFRESH_METHODS.has(request.method)) next = refreshTarget(next, request);
  if (request.method === 'BYE') next = { ...next, state: 'terminated' };
  return { accepted: true, dialog: next };
}

/**
 * A response received to a request this UA sent in (or to create) the dialog.
 *
 * - RFC 3261 §13.2.2.4: a 2xx to the INVITE that created an early dialog confirms it, and "the
 *   route set for the dialog MUST be recomputed based on the 2xx response"; a UAC route set is the
 *   reversed Record-Route.
 * - RFC 3261 §12.2.1.2: "When a UAC receives a 2xx response to a target refresh request, it MUST
 *   replace the dialog's remote target URI with the URI from the Contact header field in that
 *   response, if present." A provisional response with a Contact refreshes an early dialog likewise.
 * - RFC 3261 §12.3: a non-2xx final response to the INVITE terminates the early dialog.
 * - RFC 3261 §12.2.1.2: "If the response for a request within a dialog is a 481 (Call/Transaction
 *   Does Not Exist) or a 408 (Request Timeout), the UAC SHOULD terminate the dialog." Pass the 408
 *   that a transaction timeout stands for as well.
 */
export function receiveDialogResponse(dialog: Dialog, response: SipResponse): Dialog {
  if (dialog.state === 'terminated') return dialog;
  const cseq = getCSeq(response);
  if (cseq === undefined) throw new DialogError('the response has no CSeq');
  const { status } = response;
  if (status === 481 || status === 408) return { ...dialog, state: 'terminated' };
  if (dialog.state === 'early' && cseq.method === 'INVITE' && cseq.seq === dialog.inviteSeq) {
    if (status >= 300) return { ...dialog, state: 'terminated' };
    if (status >= 200) {
      const confirmed = refreshTarget({ ...dialog, state: 'confirmed' }, response);
      return dialog.role === 'uac' ? { ...confirmed, routeSet: getHeaders(response, 'Record-Route').reverse() } : confirmed;
    }
    return status > 100 ? refreshTarget(dialog, response) : dialog;
  }
  if (status >= 200 && status < 300 && TARGET_REFRESH_METHODS.has(cseq.method)) return refreshTarget(dialog, response);
  return dialog;
}

/**
 * A response this UA sends to a request received in (or creating) the dialog. As UAS of the
 * INVITE, a 2xx confirms an early dialog and a final failure ends it (RFC 3261 §12.1.1, §12.3).
 * A Contact in a 2xx to a target refresh becomes the dialog's `localContact`.
 */
export function sendDialogResponse(dialog: Dialog, response: SipResponse): Dialog {
  if (dialog.state === 'terminated') return dialog;
  const cseq = getCSeq(response);
  if (cseq === undefined) throw new DialogError('the response has no CSeq');
  const { status } = response;
  const contact = getHeader(response, 'Contact');
  let next = dialog;
  if (status >= 200 && status < 300 && contact !== undefined && TARGET_REFRESH_METHODS.has(cseq.method)) {
    next = { ...next, localContact: contact };
  }
  if (dialog.state === 'early' && cseq.method === 'INVITE' && dialog.role === 'uas') {
    if (status >= 200 && status < 300) next = { ...next, state: 'confirmed' };
    else if (status >= 300) next = { ...next, state: 'terminated' };
  }
  return next;
}

/** Ends the dialog outright: a session timer expired, the 2xx was never ACKed (RFC 3261 §13.3.1.4). */
export function terminateDialog(dialog: Dialog): Dialog {
  return dialog.state === 'terminated' ? dialog : { ...dialog, state: 'terminated' };
}

function refreshTarget(dialog: Dialog, message: SipRequest | SipResponse): Dialog {
  const target = contactUri(message);
  return target === undefined ? dialog : { ...dialog, remoteTarget: target };
}
