/**
 * UPDATE in early dialogs (RFC 3311 §5.1) through the edge's B2BUA: after a reliable 183 with SDP,
 * the caller's UPDATE (a new offer) reaches the callee in the branch's early dialog and the answer
 * comes back; the callee's bodiless UPDATE (a session-timer refresh, RFC 4028) reaches the caller;
 * and the dialog the 200 confirms carries on in CSeq order. SIP.js 0.21 sends no UPDATE at all, so
 * a raw WebSocket client drives these.
 */
import { describe, expect, it } from 'vitest';
import { createUasDialog } from '../../shared/dialog/index.ts';
import { getCSeq, getHeader } from '../../shared/message/index.ts';
import { freshUsers, PASSWORD } from './support/call-fixtures.ts';
import { ANSWER_SDP, bodyText, OFFER_SDP, Phone } from './support/phone.ts';

const HOLD_OFFER = OFFER_SDP.replace('a=sendrecv', 'a=sendonly').replace('o=- 1 1', 'o=- 1 2');
const HOLD_ANSWER = ANSWER_SDP.replace('a=sendrecv', 'a=recvonly').replace('o=- 2 2', 'o=- 2 3');

function close(...phones: Phone[]): void {
  for (const phone of phones) phone.socket.close();
}

describe('UPDATE before the answer', () => {
  it('relays UPDATEs both ways in the early dialog of a reliable 183, and the confirmed dialog goes on in order', async () => {
    const [alice, bob] = await freshUsers('alice', 'bob');
    const caller = await Phone.online(alice!, PASSWORD);
    const callee = await Phone.online(bob!, PASSWORD);
    const outgoing = await caller.call(bob!, OFFER_SDP, [{ name: 'Supported', value: '100rel, timer' }]);
    const incoming = await callee.incoming();

    // A reliable 183 with the answer: the early dialog of both legs.
    const early = callee.respond(incoming.invite, 183, { toTag: incoming.toTag, contact: true, body: ANSWER_SDP, headers: [{ name: 'Require', value: '100rel' }, { name: 'RSeq', value: '1' }] });
    incoming.dialog = createUasDialog(incoming.invite, early);
    const progress = await outgoing.response();
    expect(progress.status).toBe(183);
    const inviteSeq = getCSeq(outgoing.invite)?.seq;
    outgoing.request('PRACK', { headers: [{ name: 'RAck', value: `1 ${inviteSeq} INVITE` }] });
    callee.respond(await callee.expectRequest('PRACK'), 200);
    expect((await caller.expectResponse()).status).toBe(200);
    const branchSeq = getCSeq(incoming.invite)?.seq ?? 0;

    // The caller's new offer before the answer: relayed in the branch's early dialog, answered back.
    outgoing.request('UPDATE', { body: HOLD_OFFER });
    const update = await callee.expectRequest('UPDATE');
    expect(bodyText(update)).toBe(HOLD_OFFER);
    expect(getHeader(update, 'To')).toContain(`tag=${incoming.toTag}`);
    expect(getCSeq(update)?.seq).toBe(branchSeq + 2);
    callee.respond(update, 200, { contact: true, body: HOLD_ANSWER });
    const updated = await caller.expectResponse();
    expect(updated.status).toBe(200);
    expect(getCSeq(updated)?.method).toBe('UPDATE');
    expect(bodyText(updated)).toBe(HOLD_ANSWER);

    // The callee refreshes the session before answering: a bodiless UPDATE reaches the caller.
    incoming.request('UPDATE', { headers: [{ name: 'Session-Expires', value: '1800;refresher=uas' }] });
    const refresh = await caller.expectRequest('UPDATE');
    expect(getHeader(refresh, 'Session-Expires')).toBe('1800;refresher=uas');
    expect(getHeader(refresh, 'From')).toContain(`<sip:${bob}@`);
    caller.respond(refresh, 200, { headers: [{ name: 'Session-Expires', value: '1800;refresher=uas' }, { name: 'Require', value: 'timer' }] });
    const refreshed = await callee.expectResponse();
    expect(refreshed.status).toBe(200);
    expect(getCSeq(refreshed)?.method).toBe('UPDATE');

    // The answer: the confirmed dialog carries on after the early dialog's CSeqs, on both legs.
    const callerSeq = outgoing.dialog?.localSeq;
    incoming.answer();
    expect((await outgoing.response()).status).toBe(200);
    if (outgoing.dialog !== undefined && callerSeq !== undefined) outgoing.dialog = { ...outgoing.dialog, localSeq: callerSeq };
    outgoing.ack();
    await callee.expectRequest('ACK');
    outgoing.request('INFO', { body: 'Signal=1\r\n', contentType: 'application/dtmf-relay' });
    const info = await callee.expectRequest('INFO');
    expect(getCSeq(info)?.seq).toBe(branchSeq + 3);
    callee.respond(info, 200);
    expect((await caller.expectResponse()).status).toBe(200);
    close(caller, callee);
  });

  it('answers 481 to an UPDATE in an early dialog no reliable provisional response made, and the call still gets answered', async () => {
    const [alice, bob] = await freshUsers('alice', 'bob');
    const caller = await Phone.online(alice!, PASSWORD);
    const callee = await Phone.online(bob!, PASSWORD);
    const outgoing = await caller.call(bob!);
    const incoming = await callee.incoming();
    incoming.ring();
    expect((await outgoing.response()).status).toBe(180);
    outgoing.request('UPDATE', { body: HOLD_OFFER });
    const refused = await caller.expectResponse();
    expect(refused.status).toBe(481);
    expect(getCSeq(refused)?.method).toBe('UPDATE');
    await callee.expectSilence();
    incoming.answer();
    expect((await outgoing.response()).status).toBe(200);
    outgoing.ack();
    await callee.expectRequest('ACK');
    close(caller, callee);
  });
});
