/**
 * Blind transfer (RFC 3515 REFER) inside a confirmed call, as the B2BUA relays it.
 *
 * ```
 *   transferor                 edge (two halves)                    transferee
 *   REFER (Refer-To: carol) -> vetted here, relayed as an in-dialog REFER on the other leg ->
 *        <------------------------- 202 Accepted (the transferee's own answer) -------------
 *        <- NOTIFY (Event: refer, message/sipfrag "SIP/2.0 100 Trying") relayed ------------
 *                                          the transferee's client INVITEs carol: a new call
 *        <- NOTIFY (sipfrag "SIP/2.0 200 OK", Subscription-State: terminated) relayed -------
 * ```
 *
 * The implicit subscription (RFC 3515 §2.4.4) is the transferee's: the edge holds no state for it,
 * it relays the REFER, the 202 and every NOTIFY end to end like any request within the dialog.
 *
 * What the edge checks before the REFER leaves (the transferee acts on it without asking its
 * user, which is what SIP.js and JsSIP do, so the edge is the only guard):
 * - RFC 3515 §2.4.1: "An agent responding to a REFER method MUST return a 400 (Bad Request) if the
 *   request contained zero or more than one Refer-To header field values."
 * - The target must be a user of this domain, referred with INVITE (no `method` parameter other
 *   than INVITE, RFC 3515 §2.1): anything else would make a device of the domain call or act on
 *   an arbitrary address on the transferor's word; 403 until trunks route off the domain.
 * - Attended transfer (a `Replaces` header in the Refer-To, RFC 3891) is not relayed: the edge
 *   carries it out itself (`attended-transfer.ts`).
 * - RFC 3892 Referred-By is rewritten to the transferor's authenticated address-of-record, so the
 *   transferee learns who referred it from the edge, not from the transferor's say-so.
 *
 * An out-of-dialog REFER never reaches this module: `user-core.ts` refuses it (403), since
 * forwarding one would let anybody make a client place a call (issue 8, `allowOutOfDialogRefers`).
 */
import { parseNameAddr, type NameAddr } from '../../shared/grammar/index.ts';
import { getHeaderFields, getHeaders, type HeaderField, type SipRequest } from '../../shared/message/index.ts';
import { aorOf } from '../sip/address-of-record.ts';
import { identityOf } from '../sip/edge-ua.ts';
import { parseReplaces, type Replaces } from './attended-transfer.ts';

export type ReferCheck =
  | { readonly ok: true; readonly target: string; readonly headers: readonly HeaderField[]; readonly replaces?: Replaces }
  | { readonly ok: false; readonly status: number; readonly reason: string };

/**
 * Checks the REFER of `aor`'s device and returns the end-to-end headers its relay carries: the
 * Refer-To as received, Referred-By naming `aor`, and the RFC 4488 Refer-Sub if any.
 */
export function checkRefer(request: SipRequest, aor: string, domain: string): ReferCheck {
  const values = getHeaders(request, 'Refer-To');
  if (values.length !== 1) return { ok: false, status: 400, reason: values.length === 0 ? 'Missing Refer-To' : 'More Than One Refer-To' };
  const value = values[0]!;
  let referTo: NameAddr;
  try {
    referTo = parseNameAddr(value);
  } catch {
    return { ok: false, status: 400, reason: 'Malformed Refer-To' };
  }
  const uri = referTo.uri;
  if (uri.kind !== 'sip') return { ok: false, status: 403, reason: 'Transfer Target Not In This Domain' };
  const method = uri.params.find((param) => param.name.toLowerCase() === 'method')?.value;
  if (method !== undefined && method.toUpperCase() !== 'INVITE') return { ok: false, status: 403, reason: 'Only Transfer By INVITE' };
  const replacesHeader = uri.headers.find((header) => header.name.toLowerCase() === 'replaces');
  if (replacesHeader !== undefined) {
    // The dialog it names decides the target, whatever the URI (SIP.js writes the edge's Contact there).
    const replaces = parseReplaces(replacesHeader.value);
    if (replaces === undefined) return { ok: false, status: 400, reason: 'Malformed Replaces' };
    return { ok: true, target: replaces.callId, headers: [], replaces };
  }
  const target = aorOf(uri, domain);
  if (!target.ok) return { ok: false, status: 403, reason: 'Transfer Target Not In This Domain' };
  const referredBy = identityOf(aor, getHeaderFields(request, 'Referred-By')[0]?.value);
  return {
    ok: true,
    target: target.aor,
    headers: [{ name: 'Refer-To', value }, { name: 'Referred-By', value: referredBy }, ...getHeaderFields(request, 'Refer-Sub')],
  };
}
