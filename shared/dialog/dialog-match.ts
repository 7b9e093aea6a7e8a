/**
 * Finding the dialog a message belongs to (RFC 3261 §12.2.2, §12.2.1.2): the dialog ID seen from
 * this UA's side, where "local" and "remote" swap places between requests and responses.
 */
import { getCallId, getFrom, getTo } from '../message/index.ts';
import type { SipRequest, SipResponse } from '../message/message.ts';
import type { DialogId } from './dialog-state.ts';

/**
 * The dialog an incoming request claims to be in: Call-ID, local tag = To tag, remote tag = From
 * tag (RFC 3261 §12.2.2). `undefined` for a request without To tag, which is outside any dialog.
 */
export function incomingRequestDialogId(request: SipRequest): DialogId | undefined {
  const callId = getCallId(request);
  const localTag = getTo(request)?.tag;
  const remoteTag = getFrom(request)?.tag;
  if (callId === undefined || localTag === undefined || remoteTag === undefined) return undefined;
  return { callId, localTag, remoteTag };
}

/**
 * The dialog an incoming response belongs to: Call-ID, local tag = From tag, remote tag = To tag
 * (RFC 3261 §12.1.2). Forked responses to one INVITE differ in To tag, hence in dialog.
 * `undefined` when the response has no To tag (a 100, or a 1xx that creates no dialog).
 */
export function incomingResponseDialogId(response: SipResponse): DialogId | undefined {
  const callId = getCallId(response);
  const localTag = getFrom(response)?.tag;
  const remoteTag = getTo(response)?.tag;
  if (callId === undefined || localTag === undefined || remoteTag === undefined) return undefined;
  return { callId, localTag, remoteTag };
}
