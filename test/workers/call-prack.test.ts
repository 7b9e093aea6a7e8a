/**
 * Reliable provisional responses and PRACK (RFC 3262) through the edge's B2BUA: relayed end to end
 * when the caller supports 100rel, retransmitted until the PRACK, PRACKed by the edge itself where
 * the caller cannot take them, and `Require: 100rel` honoured.
 */
import { runDurableObjectAlarm } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { getCSeq, getHeader, getHeaders } from '../../shared/message/index.ts';
import { fakeClockFor, freshUsers, PASSWORD } from './support/call-fixtures.ts';
import { OFFER_SDP, Phone, type IncomingCall } from './support/phone.ts';
import { userStub } from './support/users.ts';

function close(...phones: Phone[]): void {
  for (const phone of phones) phone.socket.close();
}

function reliable180(incoming: IncomingCall, rseq: number): void {
  incoming.phone.respond(incoming.invite, 180, { toTag: incoming.toTag, contact: true, headers: [{ name: 'Require', value: '100rel' }, { name: 'RSeq', value: String(rseq) }] });
}

describe('reliable provisional responses relayed end to end', () => {
  it('relays a reliable 180 with its RSeq, the caller’s PRACK to the callee and the 200 back, and the call goes on in order', async () => {
    const [alice, bob] = await freshUsers('alice', 'bob');
    const caller = await Phone.online(alice!, PASSWORD);
    const callee = await Phone.online(bob!, PASSWORD);
    // RFC 3262 §4: a UAC that insists on reliability says Require: 100rel; the edge accepts it.
    const outgoing = await caller.call(bob!, OFFER_SDP, [{ name: 'Require', value: '100rel' }, { name: 'Supported', value: 'timer' }]);
    const incoming = await callee.incoming();
    expect(getHeaders(incoming.invite, 'Require')).toEqual(['100rel']);

    reliable180(incoming, 7);
    const ringing = await outgoing.response();
    expect(ringing.status).toBe(180);
    expect(getHeaders(ringing, 'Require')).toEqual(['100rel']);
    expect(getHeader(ringing, 'RSeq')).toBe('7');
    // The callee's device retransmits before the PRACK: the caller does not get it twice.
    reliable180(incoming, 7);
    await caller.expectSilence();

    const inviteSeq = getCSeq(outgoing.invite)?.seq;
    outgoing.request('PRACK', { headers: [{ name: 'RAck', value: `7 ${inviteSeq} INVITE` }] });
    const prack = await callee.expectRequest('PRACK');
    const branchSeq = getCSeq(incoming.invite)?.seq ?? 0;
    expect(getHeader(prack, 'RAck')).toBe(`7 ${branchSeq} INVITE`);
    expect(getCSeq(prack)?.seq).toBe(branchSeq + 1);
    expect(getHeader(prack, 'To')).toContain(`tag=${incoming.toTag}`);
    callee.respond(prack, 200);
    const pracked = await caller.expectResponse();
    expect(pracked.status).toBe(200);
    expect(getCSeq(pracked)?.method).toBe('PRACK');

    incoming.answer();
    expect((await outgoing.response()).status).toBe(200);
    outgoing.ack();
    await callee.expectRequest('ACK');
    // The confirmed dialog carries on after the PRACK's CSeq, or the device would answer 500.
    outgoing.request('INFO', { body: 'Signal=1\r\n', contentType: 'application/dtmf-relay' });
    const info = await callee.expectRequest('INFO');
    expect(getCSeq(info)?.seq).toBe(branchSeq + 2);
    callee.respond(info, 200);
    expect((await caller.expectResponse()).status).toBe(200);
    close(caller, callee);
  });

  it('retransmits the reliable 180 every T1, doubling, until the PRACK (RFC 3262 §3)', async () => {
    const [alice, bob] = await freshUsers('alice', 'bob');
    const clock = await fakeClockFor(alice!);
    const caller = await Phone.online(alice!, PASSWORD);
    const callee = await Phone.online(bob!, PASSWORD);
    const outgoing = await caller.call(bob!, OFFER_SDP, [{ name: 'Supported', value: '100rel' }]);
    const incoming = await callee.incoming();
    expect(getHeaders(incoming.invite, 'Supported')).toEqual(['100rel']);
    reliable180(incoming, 1);
    expect((await outgoing.response()).status).toBe(180);
    clock.advance(500);
    await runDurableObjectAlarm(userStub(alice!));
    expect(getHeader(await caller.expectResponse(), 'RSeq')).toBe('1');
    clock.advance(1000);
    await runDurableObjectAlarm(userStub(alice!));
    expect(getHeader(await caller.expectResponse(), 'RSeq')).toBe('1');

    // A PRACK naming another RSeq matches nothing: 481; the right one stops the retransmissions.
    const inviteSeq = getCSeq(outgoing.invite)?.seq;
    outgoing.request('PRACK', { headers: [{ name: 'RAck', value: `2 ${inviteSeq} INVITE` }] });
    expect((await caller.expectResponse()).status).toBe(481);
    outgoing.request('PRACK', { headers: [{ name: 'RAck', value: `1 ${inviteSeq} INVITE` }] });
    callee.respond(await callee.expectRequest('PRACK'), 200);
    expect((await caller.expectResponse()).status).toBe(200);
    clock.advance(2000);
    await runDurableObjectAlarm(userStub(alice!));
    await caller.expectSilence();
    outgoing.cancel();
    close(caller, callee);
  });

  it('fails the call with 500 and cancels the callee when no PRACK comes for 64*T1', async () => {
    const [alice, bob] = await freshUsers('alice', 'bob');
    const clock = await fakeClockFor(alice!);
    const caller = await Phone.online(alice!, PASSWORD);
    const callee = await Phone.online(bob!, PASSWORD);
    const outgoing = await caller.call(bob!, OFFER_SDP, [{ name: 'Supported', value: '100rel' }]);
    const incoming = await callee.incoming();
    reliable180(incoming, 1);
    expect((await outgoing.response()).status).toBe(180);
    clock.advance(40_000);
    await runDurableObjectAlarm(userStub(alice!));
    const failed = await caller.expectResponse();
    expect(failed.status).toBe(500);
    outgoing.ackFailure(failed);
    const cancel = await callee.expectRequest('CANCEL');
    callee.respond(cancel, 200);
    close(caller, callee);
  });
});

describe('reliable provisional responses the caller cannot take', () => {
  it('PRACKs a reliable 180 itself and passes a plain one to a caller without 100rel', async () => {
    const [alice, bob] = await freshUsers('alice', 'bob');
    const caller = await Phone.online(alice!, PASSWORD);
    const callee = await Phone.online(bob!, PASSWORD);
    const outgoing = await caller.call(bob!);
    const incoming = await callee.incoming();
    expect(getHeaders(incoming.invite, 'Supported')).not.toContain('100rel');
    reliable180(incoming, 4);
    const prack = await callee.expectRequest('PRACK');
    expect(getHeader(prack, 'RAck')).toBe(`4 ${getCSeq(incoming.invite)?.seq} INVITE`);
    callee.respond(prack, 200);
    const ringing = await outgoing.response();
    expect(ringing.status).toBe(180);
    expect(getHeader(ringing, 'RSeq')).toBeUndefined();
    expect(getHeaders(ringing, 'Require')).not.toContain('100rel');
    outgoing.cancel();
    close(caller, callee);
  });

  it('relays one device’s reliable responses and PRACKs the other device’s itself', async () => {
    const [alice, bob] = await freshUsers('alice', 'bob');
    const caller = await Phone.online(alice!, PASSWORD);
    const desk = await Phone.online(bob!, PASSWORD);
    const mobile = await Phone.online(bob!, PASSWORD);
    const outgoing = await caller.call(bob!, OFFER_SDP, [{ name: 'Supported', value: '100rel' }]);
    const first = await desk.incoming();
    const second = await mobile.incoming();
    reliable180(first, 1);
    expect(getHeader(await outgoing.response(), 'RSeq')).toBe('1');
    reliable180(second, 9);
    const prack = await mobile.expectRequest('PRACK');
    expect(getHeader(prack, 'RAck')).toBe(`9 ${getCSeq(second.invite)?.seq} INVITE`);
    mobile.respond(prack, 200);
    const plain = await outgoing.response();
    expect(plain.status).toBe(180);
    expect(getHeader(plain, 'RSeq')).toBeUndefined();
    outgoing.cancel();
    close(caller, desk, mobile);
  });
});
