/**
 * Requests within a dialog (RFC 3261 §12.2.1.1) and the ACK for a 2xx (RFC 3261 §13.2.2.4).
 *
 * The dialog supplies From, To, Call-ID, CSeq, Request-URI and Route; the caller supplies what the
 * dialog cannot know: this hop's Via (sent-by and transport), the body, and extra header fields such
 * as credentials. Each call returns the dialog with its local sequence number advanced.
 */
import { MAX_CSEQ } from '../grammar/cseq.ts';
import type { HeaderField, SipRequest } from '../message/message.ts';
import { generateBranch } from '../transaction/branch.ts';
import { DialogError, TARGET_REFRESH_METHODS, type Dialog } from './dialog-state.ts';
import { requestTarget } from './dialog-routing.ts';

export interface DialogRequestOptions {
  /**
   * The Via value for this hop without a branch, e.g. `SIP/2.0/WSS edge.sipedge.example;rport`.
   * A branch is appended: `branch` when given, a fresh one otherwise (RFC 3261 §8.1.1.7).
   */
  readonly via: string;
  readonly branch?: string;
  /** Contact for a target refresh request; defaults to the dialog's `localContact` (RFC 3261 §12.2.1.1). */
  readonly contact?: string;
  /** Extra header fields (Authorization, Supported, Event, Refer-To, ...), written after the dialog's own. */
  readonly headers?: readonly HeaderField[];
  readonly body?: Uint8Array | string;
  /** Content-Type of `body`; RFC 3261 §20.15 requires one with a non-empty body. */
  readonly contentType?: string;
  /** RFC 3261 §8.1.1.6: 70 unless the caller knows better. */
  readonly maxForwards?: number;
  /**
   * The CSeq of this UA's first request in a dialog it did not start (the local sequence number is
   * still empty). RFC 3261 §8.1.1.5 only asks for a value below 2**31; a random one by default.
   */
  readonly initialSeq?: number;
}

export interface DialogRequest {
  /** The dialog with `localSeq` (and for INVITE `inviteSeq`) advanced; terminated after a BYE. */
  readonly dialog: Dialog;
  readonly request: SipRequest;
}

const encoder = new TextEncoder();

/**
 * RFC 3261 §12.2.1.1: a request within the dialog. ACK and CANCEL are refused: the ACK for a 2xx
 * reuses the INVITE's CSeq (`createDialogAck`), and a CANCEL copies the request it cancels
 * (`createCancel` in `transaction/`).
 *
 * RFC 3261 §15.1.1: once a BYE is built the dialog is terminated; a terminated dialog still builds
 * BYEs, so that a BYE challenged with 401/407 can be sent again with credentials and a new CSeq.
 */
export function createDialogRequest(dialog: Dialog, method: string, options: DialogRequestOptions): DialogRequest {
  if (method === 'ACK' || method === 'CANCEL') {
    throw new DialogError(`${method} is not built as a new in-dialog request; see createDialogAck and createCancel`);
  }
  if (dialog.state === 'terminated' && method !== 'BYE') {
    throw new DialogError(`the dialog is terminated; no ${method} can be sent in it`);
  }
  // RFC 3261 §12.2.1.1: "The local sequence number MUST be incremented by one", or chosen afresh
  // when it is empty.
  const seq = dialog.localSeq === undefined ? (options.initialSeq ?? randomInitialSeq()) : dialog.localSeq + 1;
  if (!Number.isInteger(seq) || seq < 0 || seq > MAX_CSEQ) {
    throw new DialogError(`CSeq ${seq} does not fit in 32 bits (RFC 3261 §8.1.1.5)`);
  }
  const contact = TARGET_REFRESH_METHODS.has(method) ? (options.contact ?? dialog.localContact) : options.contact;
  const request = build(dialog, method, seq, contact, options);
  const next: Dialog = {
    ...dialog,
    localSeq: seq,
    ...(method === 'INVITE' ? { inviteSeq: seq } : {}),
    ...(contact !== undefined && TARGET_REFRESH_METHODS.has(method) ? { localContact: contact } : {}),
    ...(method === 'BYE' ? { state: 'terminated' as const } : {}),
  };
  return { dialog: next, request };
}

/**
 * RFC 3261 §13.2.2.4: the ACK for a 2xx is built like any in-dialog request, except that "The
 * sequence number of the CSeq header field MUST be the same as the INVITE being acknowledged, but
 * the CSeq method MUST be ACK", and it carries "the same credentials as the INVITE" (pass them in
 * `headers`). It is a transaction of its own, so it gets a fresh branch, and it does not advance
 * the local sequence number.
 */
export function createDialogAck(dialog: Dialog, options: DialogRequestOptions): SipRequest {
  if (dialog.inviteSeq === undefined) throw new DialogError('this UA has sent no INVITE in the dialog, so there is nothing to ACK');
  return build(dialog, 'ACK', dialog.inviteSeq, options.contact, options);
}

function build(dialog: Dialog, method: string, seq: number, contact: string | undefined, options: DialogRequestOptions): SipRequest {
  const target = requestTarget(dialog);
  const body = options.body === undefined ? new Uint8Array(0) : typeof options.body === 'string' ? encoder.encode(options.body) : options.body;
  if (body.length > 0 && options.contentType === undefined) {
    throw new DialogError('a request with a body needs a Content-Type (RFC 3261 §20.15)');
  }
  const headers: HeaderField[] = [
    { name: 'Via', value: `${options.via};branch=${options.branch ?? generateBranch()}` },
    { name: 'Max-Forwards', value: String(options.maxForwards ?? 70) },
    ...target.routes.map((value) => ({ name: 'Route', value })),
    // RFC 3261 §12.2.1.1: To carries the remote URI and tag, From the local URI and tag, and the
    // Call-ID is the dialog's.
    { name: 'To', value: dialog.remote },
    { name: 'From', value: dialog.local },
    { name: 'Call-ID', value: dialog.id.callId },
    { name: 'CSeq', value: `${seq} ${method}` },
    ...(contact === undefined ? [] : [{ name: 'Contact', value: contact }]),
    ...(options.headers ?? []),
    ...(options.contentType === undefined ? [] : [{ name: 'Content-Type', value: options.contentType }]),
    { name: 'Content-Length', value: String(body.length) },
  ];
  return { kind: 'request', method, uri: target.uri, version: 'SIP/2.0', headers, body };
}

/** RFC 3261 §8.1.1.5: any value below 2**31; random so that a restarted UA does not repeat itself. */
function randomInitialSeq(): number {
  const word = new Uint32Array(1);
  crypto.getRandomValues(word);
  return (word[0]! & 0x7fffffff) || 1;
}
