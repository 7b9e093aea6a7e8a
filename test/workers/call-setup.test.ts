/**
 * Setting a call up through the edge's B2BUA: the caller's challenge, the fork to every device of
 * the callee, and every way the set-up can end (answer, busy, decline, nobody there, CANCEL, no
 * answer).
 */
import { evictDurableObject, runDurableObjectAlarm } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { getHeader, getHeaders, getTo, serializeMessage } from '../../shared/message/index.ts';
import { generateBranch } from '../../shared/transaction/index.ts';
import { callsOf, fakeClockFor, freshUsers, PASSWORD } from './support/call-fixtures.ts';
import { ANSWER_SDP, bodyText, OFFER_SDP, Phone } from './support/phone.ts';
import { DOMAIN, userStub } from './support/users.ts';

describe('the caller', () => {
  it('is challenged with 407 and Proxy-Authenticate, SHA-256 first then MD5, before anything rings', async () => {
    const [alice, bob] = await freshUsers('alice', 'bob');
    const caller = await Phone.online(alice!, PASSWORD);
    const callee = await Phone.online(bob!, PASSWORD);
    caller.send(
      serializeMessage({
        kind: 'request',
        method: 'INVITE',
        uri: `sip:${bob}@${DOMAIN}`,
        version: 'SIP/2.0',
        headers: [
          { name: 'Via', value: `SIP/2.0/WSS x.invalid;branch=${generateBranch()}` },
          { name: 'Max-Forwards', value: '70' },
          { name: 'To', value: `<sip:${bob}@${DOMAIN}>` },
          { name: 'From', value: `<sip:${alice}@${DOMAIN}>;tag=a1` },
          { name: 'Call-ID', value: `challenge-${alice}` },
          { name: 'CSeq', value: '1 INVITE' },
          { name: 'Contact', value: caller.contact },
          { name: 'Content-Length', value: '0' },
        ],
        body: new Uint8Array(0),
      }),
    );
    const response = await caller.expectResponse();
    expect(response.status).toBe(407);
    const challenges = getHeaders(response, 'Proxy-Authenticate');
    expect(challenges[0]).toMatch(/algorithm=SHA-256/);
    expect(challenges[1]).toMatch(/algorithm=MD5/);
    await callee.expectSilence();
    caller.socket.close();
    callee.socket.close();
  });

  it('gets 404 for a user that does not exist and 480 for one with no device registered', async () => {
    const [alice, bob] = await freshUsers('alice', 'bob');
    const caller = await Phone.online(alice!, PASSWORD);
    const unknown = await caller.call('nobody-here');
    const notFound = await unknown.response();
    expect(notFound.status).toBe(404);
    unknown.ackFailure(notFound);
    const away = await caller.call(bob!);
    expect((await away.response()).status).toBe(480);
    caller.socket.close();
  });
});

describe('the fork to the callee’s devices', () => {
  it('rings every device, connects the first to answer and cancels the others with a Reason', async () => {
    const [alice, bob] = await freshUsers('alice', 'bob');
    const caller = await Phone.online(alice!, PASSWORD);
    const phone = await Phone.online(bob!, PASSWORD);
    const laptop = await Phone.online(bob!, PASSWORD);

    const call = await caller.call(bob!);
    const onPhone = await phone.incoming();
    const onLaptop = await laptop.incoming();
    // B2BUA: the callee's leg is a dialog of its own, the SDP passes through.
    expect(bodyText(onPhone.invite)).toBe(OFFER_SDP);
    expect(getHeader(onPhone.invite, 'Call-ID')).not.toBe(getHeader(call.invite, 'Call-ID'));
    expect(getHeader(onPhone.invite, 'Call-ID')).toBe(getHeader(onLaptop.invite, 'Call-ID'));
    expect(getHeader(onPhone.invite, 'From')).toMatch(new RegExp(`^"${alice} display" <sip:${alice}@${DOMAIN}>;tag=`));
    expect(onPhone.invite.uri).toBe(phone.device.contactUri);

    onPhone.ring(183, OFFER_SDP.replace('o=- 1 1', 'o=- 3 3'));
    const early = await call.response();
    expect(early.status).toBe(183);
    expect(bodyText(early)).toContain('o=- 3 3');
    const aLegTag = getTo(early)?.tag;
    onLaptop.ring();
    const ringing = await call.response();
    expect(ringing.status).toBe(180);
    expect(getTo(ringing)?.tag).toBe(aLegTag);

    onLaptop.answer();
    const ok = await call.response();
    expect(ok.status).toBe(200);
    expect(bodyText(ok)).toBe(ANSWER_SDP);
    expect(getTo(ok)?.tag).toBe(aLegTag);

    const cancel = await phone.expectRequest('CANCEL');
    expect(getHeader(cancel, 'Reason')).toBe('SIP;cause=200;text="Call completed elsewhere"');
    phone.respond(cancel, 200);
    onPhone.reject(487);
    await phone.expectRequest('ACK');

    call.ack();
    await laptop.expectRequest('ACK');
    call.request('BYE');
    expect((await caller.expectResponse()).status).toBe(200);
    laptop.respond(await laptop.expectRequest('BYE'), 200);
    expect((await callsOf(alice!)).map((half) => half.phase)).toEqual(['ended']);
    for (const each of [caller, phone, laptop]) each.socket.close();
  });

  it('ACKs and hangs up a second device that answers after the first', async () => {
    const [alice, bob] = await freshUsers('alice', 'bob');
    const caller = await Phone.online(alice!, PASSWORD);
    const phone = await Phone.online(bob!, PASSWORD);
    const laptop = await Phone.online(bob!, PASSWORD);
    const call = await caller.call(bob!);
    const onPhone = await phone.incoming();
    const onLaptop = await laptop.incoming();
    onPhone.answer();
    onLaptop.answer();
    expect((await call.response()).status).toBe(200);
    // The laptop's 200 lost the race: ACK, then BYE (RFC 3261 §13.2.2.4). It had sent no
    // provisional response, so it got no CANCEL (RFC 3261 §9.1).
    await laptop.expectRequest('ACK');
    const bye = await laptop.expectRequest('BYE');
    expect(getHeader(bye, 'Reason')).toBe('SIP;cause=200;text="Call completed elsewhere"');
    laptop.respond(bye, 200);
    await laptop.expectSilence();
    call.ack();
    await phone.expectRequest('ACK');
    for (const each of [caller, phone, laptop]) each.socket.close();
  });

  it('answers 486 when every device is busy', async () => {
    const [alice, bob] = await freshUsers('alice', 'bob');
    const caller = await Phone.online(alice!, PASSWORD);
    const phone = await Phone.online(bob!, PASSWORD);
    const laptop = await Phone.online(bob!, PASSWORD);
    const call = await caller.call(bob!);
    (await phone.incoming()).reject(486);
    (await laptop.incoming()).reject(486);
    const busy = await call.response();
    expect(busy.status).toBe(486);
    call.ackFailure(busy);
    for (const each of [caller, phone, laptop]) each.socket.close();
  });

  it('answers 486 when one device is busy and the other never answers (Timer B on the alarm)', async () => {
    const [alice, bob] = await freshUsers('alice', 'bob');
    const clock = await fakeClockFor(bob!);
    const caller = await Phone.online(alice!, PASSWORD);
    const phone = await Phone.online(bob!, PASSWORD);
    const laptop = await Phone.online(bob!, PASSWORD);
    const call = await caller.call(bob!);
    (await phone.incoming()).reject(486);
    await laptop.incoming();
    await caller.expectSilence();
    clock.advance(33_000);
    expect(await runDurableObjectAlarm(userStub(bob!))).toBe(true);
    expect((await call.response()).status).toBe(486);
    for (const each of [caller, phone, laptop]) each.socket.close();
  });

  it('ends the fork on a 603 from any device: the others are cancelled and the caller gets 603', async () => {
    const [alice, bob] = await freshUsers('alice', 'bob');
    const caller = await Phone.online(alice!, PASSWORD);
    const phone = await Phone.online(bob!, PASSWORD);
    const laptop = await Phone.online(bob!, PASSWORD);
    const call = await caller.call(bob!);
    const onPhone = await phone.incoming();
    const onLaptop = await laptop.incoming();
    onLaptop.ring();
    expect((await call.response()).status).toBe(180);
    onPhone.reject(603);
    const cancel = await laptop.expectRequest('CANCEL');
    expect(getHeader(cancel, 'Reason')).toBe('SIP;cause=603;text="Decline"');
    laptop.respond(cancel, 200);
    onLaptop.reject(487);
    expect((await call.response()).status).toBe(603);
    for (const each of [caller, phone, laptop]) each.socket.close();
  });

  it('answers 480 when the only device’s flow has failed', async () => {
    const [alice, bob] = await freshUsers('alice', 'bob');
    const caller = await Phone.online(alice!, PASSWORD);
    const gone = await Phone.online(bob!, PASSWORD);
    gone.socket.close();
    const call = await caller.call(bob!);
    expect((await call.response()).status).toBe(480);
    caller.socket.close();
  });
});

describe('set-ups that are not the usual one', () => {
  it('relays a delayed offer: the INVITE without SDP, the offer in the 200, the answer in the ACK', async () => {
    const [alice, bob] = await freshUsers('alice', 'bob');
    const caller = await Phone.online(alice!, PASSWORD);
    const callee = await Phone.online(bob!, PASSWORD);
    const call = await caller.call(bob!, '');
    const incoming = await callee.incoming();
    expect(incoming.invite.body.length).toBe(0);
    incoming.answer(OFFER_SDP);
    const ok = await call.response();
    expect(bodyText(ok)).toBe(OFFER_SDP);
    call.ack(ANSWER_SDP);
    const ack = await callee.expectRequest('ACK');
    expect(bodyText(ack)).toBe(ANSWER_SDP);
    expect(getHeader(ack, 'Content-Type')).toBe('application/sdp');
    caller.socket.close();
    callee.socket.close();
  });

  it('survives both objects being evicted while the callee rings', async () => {
    const [alice, bob] = await freshUsers('alice', 'bob');
    const caller = await Phone.online(alice!, PASSWORD);
    const callee = await Phone.online(bob!, PASSWORD);
    const call = await caller.call(bob!);
    const incoming = await callee.incoming();
    incoming.ring();
    expect((await call.response()).status).toBe(180);
    await evictDurableObject(userStub(alice!));
    await evictDurableObject(userStub(bob!));
    incoming.answer();
    expect((await call.response()).status).toBe(200);
    call.ack();
    await callee.expectRequest('ACK');
    caller.socket.close();
    callee.socket.close();
  });
});

describe('a call the caller gives up', () => {
  it('cancels every ringing device when the caller sends CANCEL, and answers the INVITE 487', async () => {
    const [alice, bob] = await freshUsers('alice', 'bob');
    const caller = await Phone.online(alice!, PASSWORD);
    const phone = await Phone.online(bob!, PASSWORD);
    const call = await caller.call(bob!);
    const onPhone = await phone.incoming();
    onPhone.ring();
    expect((await call.response()).status).toBe(180);
    call.cancel('SIP;cause=487;text="Caller hung up"');
    const answers = [await caller.expectResponse(), await caller.expectResponse()];
    expect(answers.map((response) => `${response.status} ${getHeader(response, 'CSeq')}`)).toEqual(['200 2 CANCEL', '487 2 INVITE']);
    const cancel = await phone.expectRequest('CANCEL');
    expect(getHeader(cancel, 'Reason')).toBe('SIP;cause=487;text="Caller hung up"');
    phone.respond(cancel, 200);
    onPhone.reject(487);
    await phone.expectRequest('ACK');
    caller.socket.close();
    phone.socket.close();
  });

  it('answers 480 when nobody answers before the no-answer timer (the alarm), and cancels the devices', async () => {
    const [alice, bob] = await freshUsers('alice', 'bob');
    const clock = await fakeClockFor(alice!);
    const caller = await Phone.online(alice!, PASSWORD);
    const phone = await Phone.online(bob!, PASSWORD);
    const call = await caller.call(bob!);
    const onPhone = await phone.incoming();
    onPhone.ring();
    expect((await call.response()).status).toBe(180);
    clock.advance(61_000);
    expect(await runDurableObjectAlarm(userStub(alice!))).toBe(true);
    const final = await call.response();
    expect(final.status).toBe(480);
    expect(final.reason).toBe('No Answer');
    const cancel = await phone.expectRequest('CANCEL');
    phone.respond(cancel, 200);
    onPhone.reject(487);
    caller.socket.close();
    phone.socket.close();
  });
});
