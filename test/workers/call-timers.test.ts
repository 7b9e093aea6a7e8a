/**
 * Session timers (RFC 4028) through the edge's B2BUA: Session-Expires and Min-SE negotiated end
 * to end, 422 for an interval below the edge's Min-SE (90 s), the refresher the caller is given
 * when the callee's device knows no timers, and calls ended with BYE on both legs when nobody
 * refreshes them in time (the alarm, on a fake clock).
 */
import { runDurableObjectAlarm } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { getHeader, getHeaders } from '../../shared/message/index.ts';
import { callsOf, fakeClockFor, freshUsers, PASSWORD } from './support/call-fixtures.ts';
import { ANSWER_SDP, OFFER_SDP, Phone } from './support/phone.ts';
import { userStub } from './support/users.ts';

const TIMER_OFFER = [
  { name: 'Supported', value: 'timer, replaces' },
  { name: 'Session-Expires', value: '120;refresher=uac' },
  { name: 'Min-SE', value: '90' },
];
const TIMER_ANSWER = [
  { name: 'Session-Expires', value: '120;refresher=uac' },
  { name: 'Require', value: 'timer' },
];

function close(...phones: Phone[]): void {
  for (const phone of phones) phone.socket.close();
}

function timerKeys(half: { timers: readonly { key: string }[] } | undefined): string[] {
  return (half?.timers ?? []).map((timer) => timer.key);
}

/** A call negotiated with a 120 s session timer, the caller refreshing; the caller's object on a fake clock. */
async function timedCall() {
  const [alice, bob] = await freshUsers('alice', 'bob');
  const clock = await fakeClockFor(alice!);
  const caller = await Phone.online(alice!, PASSWORD);
  const callee = await Phone.online(bob!, PASSWORD);
  const outgoing = await caller.call(bob!, OFFER_SDP, TIMER_OFFER);
  const incoming = await callee.incoming();
  incoming.answer(ANSWER_SDP, TIMER_ANSWER);
  const ok = await outgoing.response();
  expect(ok.status).toBe(200);
  outgoing.ack();
  await callee.expectRequest('ACK');
  return { alice: alice!, bob: bob!, clock, caller, callee, outgoing, incoming, invite: incoming.invite, ok };
}

describe('negotiating the session timer', () => {
  it('passes Session-Expires, Min-SE and Supported: timer to the callee and its answer back, and both legs track the expiry', async () => {
    const { alice, bob, caller, callee, outgoing, invite, ok } = await timedCall();
    expect(getHeader(invite, 'Session-Expires')).toBe('120;refresher=uac');
    expect(getHeader(invite, 'Min-SE')).toBe('90');
    // Only the option tags the edge carries end to end cross: not `replaces`.
    expect(getHeaders(invite, 'Supported')).toEqual(['timer']);
    expect(getHeader(ok, 'Session-Expires')).toBe('120;refresher=uac');
    expect(getHeaders(ok, 'Require')).toEqual(['timer']);
    expect(timerKeys((await callsOf(alice))[0])).toContain('session');
    expect(timerKeys((await callsOf(bob))[0])).toContain('session');

    // Hung up: neither half keeps the timer (nor lingers for it).
    outgoing.request('BYE');
    expect((await caller.expectResponse()).status).toBe(200);
    callee.respond(await callee.expectRequest('BYE'), 200);
    for (const half of [...(await callsOf(alice)), ...(await callsOf(bob))]) expect(timerKeys(half)).not.toContain('session');
    close(caller, callee);
  });

  it('answers 422 with Min-SE: 90 to an INVITE whose Session-Expires is smaller, and nothing rings', async () => {
    const [alice, bob] = await freshUsers('alice', 'bob');
    const caller = await Phone.online(alice!, PASSWORD);
    const callee = await Phone.online(bob!, PASSWORD);
    const outgoing = await caller.call(bob!, OFFER_SDP, [{ name: 'Supported', value: 'timer' }, { name: 'Session-Expires', value: '60' }]);
    const refused = await caller.expectResponse();
    expect(refused.status).toBe(422);
    expect(getHeader(refused, 'Min-SE')).toBe('90');
    outgoing.ackFailure(refused);
    await callee.expectSilence();
    close(caller, callee);
  });

  it('relays a 422 of the callee’s device with its Min-SE', async () => {
    const [alice, bob] = await freshUsers('alice', 'bob');
    const caller = await Phone.online(alice!, PASSWORD);
    const callee = await Phone.online(bob!, PASSWORD);
    const outgoing = await caller.call(bob!, OFFER_SDP, TIMER_OFFER);
    const incoming = await callee.incoming();
    callee.respond(incoming.invite, 422, { toTag: incoming.toTag, headers: [{ name: 'Min-SE', value: '300' }] });
    await callee.expectRequest('ACK');
    const refused = await caller.expectResponse();
    expect(refused.status).toBe(422);
    expect(getHeader(refused, 'Min-SE')).toBe('300');
    outgoing.ackFailure(refused);
    close(caller, callee);
  });

  it('makes the caller the refresher when the callee’s device answers without a timer (RFC 4028 §8.2)', async () => {
    const [alice, bob] = await freshUsers('alice', 'bob');
    const caller = await Phone.online(alice!, PASSWORD);
    const callee = await Phone.online(bob!, PASSWORD);
    const outgoing = await caller.call(bob!, OFFER_SDP, [{ name: 'Supported', value: 'timer' }, { name: 'Session-Expires', value: '1800' }]);
    (await callee.incoming()).answer();
    const ok = await outgoing.response();
    expect(getHeader(ok, 'Session-Expires')).toBe('1800;refresher=uac');
    expect(getHeaders(ok, 'Require')).toEqual(['timer']);
    outgoing.ack();
    await callee.expectRequest('ACK');
    expect(timerKeys((await callsOf(alice!))[0])).toContain('session');
    // The callee's leg has no timer: its device never agreed to one.
    expect(timerKeys((await callsOf(bob!))[0])).not.toContain('session');
    close(caller, callee);
  });

  it('keeps no session timer for a call that negotiated none', async () => {
    const [alice, bob] = await freshUsers('alice', 'bob');
    const caller = await Phone.online(alice!, PASSWORD);
    const callee = await Phone.online(bob!, PASSWORD);
    const outgoing = await caller.call(bob!);
    (await callee.incoming()).answer();
    const ok = await outgoing.response();
    expect(getHeader(ok, 'Session-Expires')).toBeUndefined();
    outgoing.ack();
    await callee.expectRequest('ACK');
    expect(timerKeys((await callsOf(alice!))[0])).not.toContain('session');
    close(caller, callee);
  });
});

describe('refreshing the session', () => {
  it('relays an UPDATE refresh end to end and moves the expiry; the call lives past the first interval', async () => {
    const { alice, clock, caller, callee, outgoing } = await timedCall();
    clock.advance(60_000);
    outgoing.request('UPDATE', { headers: [{ name: 'Supported', value: 'timer' }, { name: 'Session-Expires', value: '120;refresher=uac' }] });
    const update = await callee.expectRequest('UPDATE');
    expect(getHeader(update, 'Session-Expires')).toBe('120;refresher=uac');
    callee.respond(update, 200, { contact: true, headers: TIMER_ANSWER });
    const refreshed = await caller.expectResponse();
    expect(refreshed.status).toBe(200);
    expect(getHeader(refreshed, 'Session-Expires')).toBe('120;refresher=uac');

    // 130 s after the call began, 70 s after the refresh: still up.
    clock.advance(70_000);
    await runDurableObjectAlarm(userStub(alice));
    await caller.expectSilence();
    expect((await callsOf(alice))[0]?.phase).toBe('confirmed');

    // 120 s after the refresh with none since: over.
    clock.advance(50_000);
    expect(await runDurableObjectAlarm(userStub(alice))).toBe(true);
    const bye = await caller.expectRequest('BYE');
    expect(getHeader(bye, 'Reason')).toBe('SIP;cause=408;text="Session Timer Expired"');
    caller.respond(bye, 200);
    callee.respond(await callee.expectRequest('BYE'), 200);
    close(caller, callee);
  });

  it('relays a re-INVITE refresh from the callee, and ends the call when the next one never comes', async () => {
    const { alice, clock, caller, callee, incoming } = await timedCall();
    clock.advance(100_000);
    incoming.request('INVITE', { body: ANSWER_SDP.replace('o=- 2 2', 'o=- 2 3'), headers: [{ name: 'Supported', value: 'timer' }, { name: 'Session-Expires', value: '120;refresher=uas' }] });
    const reinvite = await caller.expectRequest('INVITE');
    expect(getHeader(reinvite, 'Session-Expires')).toBe('120;refresher=uas');
    caller.respond(reinvite, 200, { contact: true, body: OFFER_SDP, headers: [{ name: 'Session-Expires', value: '120;refresher=uas' }] });
    expect((await callee.expectResponse()).status).toBe(200);
    incoming.ack();
    await caller.expectRequest('ACK');

    clock.advance(100_000);
    await runDurableObjectAlarm(userStub(alice));
    await caller.expectSilence();
    clock.advance(20_000);
    await runDurableObjectAlarm(userStub(alice));
    caller.respond(await caller.expectRequest('BYE'), 200);
    callee.respond(await callee.expectRequest('BYE'), 200);
    close(caller, callee);
  });

  it('answers 422 to a refresh below Min-SE without relaying it, and a refresh without Session-Expires turns the timer off', async () => {
    const { alice, caller, callee, outgoing } = await timedCall();
    outgoing.request('UPDATE', { headers: [{ name: 'Session-Expires', value: '30' }] });
    const refused = await caller.expectResponse();
    expect(refused.status).toBe(422);
    expect(getHeader(refused, 'Min-SE')).toBe('90');
    await callee.expectSilence();

    outgoing.request('UPDATE');
    callee.respond(await callee.expectRequest('UPDATE'), 200, { contact: true });
    expect((await caller.expectResponse()).status).toBe(200);
    expect(timerKeys((await callsOf(alice))[0])).not.toContain('session');
    close(caller, callee);
  });
});
