/**
 * What the gateway needs to know of a SIP message to run the UDP side of its transactions: kind,
 * method, top Via branch (RFC 3261 §17.1.3, §17.2.3: with the method, the transaction key), Call-ID
 * and CSeq (an ACK for a 2xx has a branch of its own, and is matched to its INVITE by those).
 * The message itself is sent and forwarded byte for byte; this is only a reading of it.
 */
import { getCSeq, getCallId, getTopVia, parseMessage } from '../../shared/message/index.ts';
import { SipSyntaxError } from '../../shared/grammar/index.ts';

export interface MessageIdentity {
  readonly kind: 'request' | 'response';
  /** The request's method, or a response's CSeq method. */
  readonly method: string;
  readonly branch: string;
  readonly callId: string | undefined;
  readonly cseq: number;
  /** Responses only. */
  readonly status: number;
}

/** The identity of `text`, or why it cannot be had. */
export function identify(text: string): { readonly ok: true; readonly value: MessageIdentity } | { readonly ok: false; readonly error: string } {
  try {
    const message = parseMessage(text);
    const cseq = getCSeq(message);
    const via = getTopVia(message);
    if (cseq === undefined) return { ok: false, error: 'no CSeq header' };
    if (via?.branch === undefined) return { ok: false, error: 'no Via header with a branch' };
    return {
      ok: true,
      value: {
        kind: message.kind,
        method: message.kind === 'request' ? message.method : cseq.method,
        branch: via.branch,
        callId: getCallId(message),
        cseq: cseq.seq,
        status: message.kind === 'response' ? message.status : 0,
      },
    };
  } catch (error) {
    // SipParseError is a SipSyntaxError too.
    if (error instanceof SipSyntaxError) return { ok: false, error: error.message };
    throw error;
  }
}

/** RFC 3261 §17.1.3 / §17.2.3: branch and method (CANCEL shares its INVITE's branch). */
export function transactionKey(identity: MessageIdentity): string {
  return `${identity.branch}\u0000${identity.method === 'ACK' ? 'INVITE' : identity.method}`;
}

/** An INVITE and the ACK of any of its final responses share Call-ID and CSeq number. */
export function dialogRequestKey(identity: MessageIdentity): string {
  return `${identity.callId ?? ''}\u0000${identity.cseq}`;
}
