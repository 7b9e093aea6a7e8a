/**
 * A confirmed call through the edge: requests within the dialog relayed from one leg to the other,
 * hanging up from either side, and a call that outlives an evicted object or a dropped socket.
 */
import { evictDurableObject, runDurableObjectAlarm } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { getCSeq, getHeader } from '../../shared/message/index.ts';
import { callsOf, fakeClockFor, freshUsers, PASSWORD } from './support/call-fixtures.ts';
import { ANSWER_SDP, bodyText, OFFER_SDP, Phone, type IncomingCall, type OutgoingCall } from './support/phone.ts';
import { userStub } from './support/users.ts';

const HOLD_SDP = OFFER_SDP.replace('o=- 1 1', 'o=- 1 2').replace('a=sendrecv', 'a=sendonly');
const HELD_SDP = ANSWER_SDP.replace('o=- 2 2', 'o=- 2 3').replace('a=sendrecv', 'a=recvonly');

interface Connected {
  readonly caller: Phone;
  readonly callee: Phone;
  readonly outgoing: OutgoingCall;
  readonly incoming: IncomingCall;
}

async function connect(alice: string, bob: string): Promise<Connected> {
  const caller = await Phone.online(alice, PASSWORD);
  const callee = await Phone.online(bob, PASSWORD);
  const outgoing = await caller.call(bob);
  const incoming = await callee.incoming();
  incoming.answer();
  expect((await outgoing.response()).status).toBe(200);
  outgoing.ack();
  await callee.expectRequest('ACK');
  return { caller, callee, outgoing, incoming };
}

function close(...phones: Phone[]): void {
  for (const phone of phones) phone.socket.close();
}

describe('hanging up', () => {
  it('relays a BYE from the callee to the caller', async () => {
    const [alice, bob] = await freshUsers('alice', 'bob');
    const { caller, callee, incoming } = await connect(alice!, bob!);
    incoming.request('BYE');
    expect((await callee.expectResponse()).status).toBe(200);
    const bye = await caller.expectRequest('BYE');
    caller.respond(bye, 200);
    expect((await callsOf(bob!)).map((half) => half.phase)).toEqual(['ended']);
    close(caller, callee);
  });

  it('answers 481 to a BYE for a call that is over', async () => {
    const [alice, bob] = await freshUsers('alice', 'bob');
    const { caller, callee, outgoing } = await connect(alice!, bob!);
    outgoing.request('BYE');
    expect((await caller.expectResponse()).status).toBe(200);
    callee.respond(await callee.expectRequest('BYE'), 200);
    outgoing.request('BYE');
    expect((await caller.expectResponse()).status).toBe(481);
    close(caller, callee);
  });
});

describe('requests within the call', () => {
  it('relays a re-INVITE for hold and its ACK from the caller, and a resume from the callee', async () => {
    const [alice, bob] = await freshUsers('alice', 'bob');
    const { caller, callee, outgoing, incoming } = await connect(alice!, bob!);

    outgoing.request('INVITE', { body: HOLD_SDP });
    const hold = await callee.expectRequest('INVITE');
    expect(bodyText(hold)).toBe(HOLD_SDP);
    callee.respond(hold, 200, { contact: true, body: HELD_SDP });
    const held = outgoing.track(await caller.expectResponse());
    expect(held.status).toBe(200);
    expect(bodyText(held)).toBe(HELD_SDP);
    outgoing.ack();
    const ack = await callee.expectRequest('ACK');
    expect(getCSeq(ack)?.seq).toBe(getCSeq(hold)?.seq);

    incoming.request('INVITE', { body: ANSWER_SDP.replace('o=- 2 2', 'o=- 2 4') });
    const resume = await caller.expectRequest('INVITE');
    caller.respond(resume, 200, { contact: true, body: OFFER_SDP.replace('o=- 1 1', 'o=- 1 3') });
    expect((await callee.expectResponse()).status).toBe(200);
    incoming.ack();
    expect(getCSeq(await caller.expectRequest('ACK'))?.seq).toBe(getCSeq(resume)?.seq);
    incoming.request('BYE');
    expect((await callee.expectResponse()).status).toBe(200);
    caller.respond(await caller.expectRequest('BYE'), 200);
    close(caller, callee);
  });

  it('relays UPDATE, INFO (DTMF) and MESSAGE both ways with their bodies and answers', async () => {
    const [alice, bob] = await freshUsers('alice', 'bob');
    const { caller, callee, outgoing, incoming } = await connect(alice!, bob!);

    outgoing.request('INFO', { body: 'Signal=5\r\nDuration=160\r\n', contentType: 'application/dtmf-relay' });
    const info = await callee.expectRequest('INFO');
    expect(getHeader(info, 'Content-Type')).toBe('application/dtmf-relay');
    expect(bodyText(info)).toBe('Signal=5\r\nDuration=160\r\n');
    callee.respond(info, 200);
    expect((await caller.expectResponse()).status).toBe(200);

    incoming.request('UPDATE');
    const update = await caller.expectRequest('UPDATE');
    caller.respond(update, 200, { contact: true });
    expect((await callee.expectResponse()).status).toBe(200);

    incoming.request('MESSAGE', { body: 'ça va ? 👋', contentType: 'text/plain;charset=UTF-8' });
    const chat = await caller.expectRequest('MESSAGE');
    expect(bodyText(chat)).toBe('ça va ? 👋');
    caller.respond(chat, 415);
    expect((await callee.expectResponse()).status).toBe(415);
    close(caller, callee);
  });

  it('refuses a second INVITE while one is in progress with 491 (RFC 3261 §14.2)', async () => {
    const [alice, bob] = await freshUsers('alice', 'bob');
    const { caller, callee, outgoing, incoming } = await connect(alice!, bob!);
    outgoing.request('INVITE', { body: HOLD_SDP });
    const hold = await callee.expectRequest('INVITE');
    incoming.request('INVITE', { body: ANSWER_SDP });
    expect((await callee.expectResponse()).status).toBe(491);
    callee.respond(hold, 200, { contact: true, body: HELD_SDP });
    expect(outgoing.track(await caller.expectResponse()).status).toBe(200);
    outgoing.ack();
    await callee.expectRequest('ACK');
    close(caller, callee);
  });
});

describe('a call that outlives its objects and sockets', () => {
  it('goes on after both users’ objects are evicted: state is in SQLite', async () => {
    const [alice, bob] = await freshUsers('alice', 'bob');
    const { caller, callee, outgoing } = await connect(alice!, bob!);
    await evictDurableObject(userStub(alice!));
    await evictDurableObject(userStub(bob!));

    outgoing.request('INVITE', { body: HOLD_SDP });
    const hold = await callee.expectRequest('INVITE');
    callee.respond(hold, 200, { contact: true, body: HELD_SDP });
    expect(outgoing.track(await caller.expectResponse()).status).toBe(200);
    outgoing.ack();
    await callee.expectRequest('ACK');

    await evictDurableObject(userStub(bob!));
    outgoing.request('BYE');
    expect((await caller.expectResponse()).status).toBe(200);
    callee.respond(await callee.expectRequest('BYE'), 200);
    close(caller, callee);
  });

  it('reaches a device that dropped its socket and registered again over a new flow, both ways', async () => {
    const [alice, bob] = await freshUsers('alice', 'bob');
    const { caller, callee, outgoing, incoming } = await connect(alice!, bob!);
    await caller.reconnect();

    incoming.request('INFO', { body: 'Signal=1\r\n', contentType: 'application/dtmf-relay' });
    const info = await caller.expectRequest('INFO');
    caller.respond(info, 200);
    expect((await callee.expectResponse()).status).toBe(200);

    outgoing.request('INVITE', { body: HOLD_SDP });
    const hold = await callee.expectRequest('INVITE');
    callee.respond(hold, 200, { contact: true, body: HELD_SDP });
    expect(outgoing.track(await caller.expectResponse()).status).toBe(200);
    outgoing.ack();
    await callee.expectRequest('ACK');

    await callee.reconnect();
    outgoing.request('BYE');
    expect((await caller.expectResponse()).status).toBe(200);
    callee.respond(await callee.expectRequest('BYE'), 200);
    close(caller, callee);
  });
});

describe('odd calls', () => {
  it('connects a call from one device of a user to another device of the same user', async () => {
    const [alice] = await freshUsers('alice');
    const desk = await Phone.online(alice!, PASSWORD);
    const mobile = await Phone.online(alice!, PASSWORD);
    const outgoing = await desk.call(alice!);
    // The fork rings every device of the callee, the calling one included; it declines.
    const first = await desk.incoming();
    first.reject(486);
    await desk.expectRequest('ACK');
    const incoming = await mobile.incoming();
    incoming.answer();
    expect(outgoing.track(await desk.expectResponse()).status).toBe(200);
    outgoing.ack();
    await mobile.expectRequest('ACK');
    incoming.request('BYE');
    expect((await mobile.expectResponse()).status).toBe(200);
    desk.respond(await desk.expectRequest('BYE'), 200);
    close(desk, mobile);
  });

  it('retransmits the 2xx until the ACK, and ends the call with BYE on both legs when none comes', async () => {
    const [alice, bob] = await freshUsers('alice', 'bob');
    const clock = await fakeClockFor(alice!);
    const caller = await Phone.online(alice!, PASSWORD);
    const callee = await Phone.online(bob!, PASSWORD);
    const outgoing = await caller.call(bob!);
    (await callee.incoming()).answer();
    expect(outgoing.track(await caller.expectResponse()).status).toBe(200);

    clock.advance(600);
    expect(await runDurableObjectAlarm(userStub(alice!))).toBe(true);
    expect((await caller.expectResponse()).status).toBe(200);

    clock.advance(32_000);
    expect(await runDurableObjectAlarm(userStub(alice!))).toBe(true);
    const bye = await caller.expectRequest('BYE');
    expect(getHeader(bye, 'Reason')).toBe('SIP;cause=408;text="ACK Timeout"');
    caller.respond(bye, 200);
    await callee.expectRequest('ACK');
    callee.respond(await callee.expectRequest('BYE'), 200);
    close(caller, callee);
  });
});
