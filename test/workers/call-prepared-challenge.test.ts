/**
 * The 407 a SipConnection answers by itself (workers/registrar/prepared-challenge.ts): the user's
 * object hands the socket's holder a challenge with each 200 to a REGISTER and with each INVITE or
 * MESSAGE that passed authentication, and the holder answers the device's next INVITE or MESSAGE
 * without credentials with it, and takes the ACK of that 407 itself. What a user notices: calls and
 * messages go through as before, one after the other; the trace still shows every message in
 * order; a nonce that grew old while it waited is answered stale=true; a user with failed attempts
 * gets its own object's slow-down.
 */
import { describe, expect, it } from 'vitest';
import { answerChallenge } from '../../shared/auth/index.ts';
import { getHeaders, serializeMessage, type SipRequest, type SipResponse } from '../../shared/message/index.ts';
import { createAckForFailure, generateBranch } from '../../shared/transaction/index.ts';
import { fakeClockFor, freshUsers, PASSWORD } from './support/call-fixtures.ts';
import { OFFER_SDP, Phone } from './support/phone.ts';
import { DOMAIN, userStub } from './support/users.ts';

let serial = 0;

/** An INVITE from `from` to `to`, as a softphone sends it, with `credentials` when given. */
function invite(from: string, to: string, callId: string, cseq: number, credentials?: string): SipRequest {
  serial += 1;
  const body = new TextEncoder().encode(OFFER_SDP);
  return {
    kind: 'request',
    method: 'INVITE',
    uri: `sip:${to}@${DOMAIN}`,
    version: 'SIP/2.0',
    headers: [
      { name: 'Via', value: `SIP/2.0/WSS h${serial}.invalid;branch=${generateBranch()}` },
      { name: 'Max-Forwards', value: '70' },
      { name: 'To', value: `<sip:${to}@${DOMAIN}>` },
      { name: 'From', value: `<sip:${from}@${DOMAIN}>;tag=f${callId}` },
      { name: 'Call-ID', value: callId },
      { name: 'CSeq', value: `${cseq} INVITE` },
      { name: 'Contact', value: `<sip:${from}@h${serial}.invalid;transport=ws>` },
      ...(credentials === undefined ? [] : [{ name: 'Proxy-Authorization', value: credentials }]),
      { name: 'Content-Type', value: 'application/sdp' },
      { name: 'Content-Length', value: String(body.length) },
    ],
    body,
  };
}

function answer(challenge: SipResponse, user: string, password: string, to: string): string {
  const answered = answerChallenge({
    challenges: getHeaders(challenge, 'Proxy-Authenticate'),
    account: { username: user, password },
    method: 'INVITE',
    uri: `sip:${to}@${DOMAIN}`,
    state: { counts: [] },
    algorithms: ['MD5'],
  });
  if (!answered.ok) throw new Error(answered.detail);
  return answered.value;
}

describe('the 407 to a call on a socket that registered', () => {
  it('comes with a nonce the user object accepts, call after call, and the trace shows INVITE, 407, ACK, INVITE in order', async () => {
    const [alice, bob] = await freshUsers('alice', 'bob');
    const caller = await Phone.online(alice!, PASSWORD);
    const callee = await Phone.online(bob!, PASSWORD);
    for (const round of [1, 2, 3]) {
      const callId = `prepared-${alice}-${round}`;
      const first = invite(alice!, bob!, callId, 1);
      caller.send(first);
      const challenge = await caller.expectResponse();
      expect(challenge.status).toBe(407);
      expect(getHeaders(challenge, 'Proxy-Authenticate')).toHaveLength(2);
      caller.send(createAckForFailure(first, challenge));
      const second = invite(alice!, bob!, callId, 2, answer(challenge, alice!, PASSWORD, bob!));
      caller.send(second);
      expect((await caller.expectResponse(undefined, false)).status).toBe(100);
      const incoming = await callee.incoming();
      incoming.reject(486);
      await callee.expectRequest('ACK');
      const busy = await caller.expectResponse();
      expect(busy.status).toBe(486);
      caller.send(createAckForFailure(second, busy));
      const records = (await userStub(alice!).readTrace({ callId })).map((record) => `${record.direction} ${record.summary.split(' ').slice(0, 2).join(' ')}`);
      expect(records.slice(0, 5)).toEqual(['in INVITE sip:' + `${bob}@${DOMAIN}`, 'out SIP/2.0 407', 'in ACK sip:' + `${bob}@${DOMAIN}`, 'in INVITE sip:' + `${bob}@${DOMAIN}`, 'out SIP/2.0 100']);
    }
    caller.socket.close();
    callee.socket.close();
  });

  it('is answered stale=true by the user object when the prepared nonce grew old, and the fresh one then works', async () => {
    const [alice, bob] = await freshUsers('alice', 'bob');
    const clock = await fakeClockFor(alice!);
    const caller = await Phone.online(alice!, PASSWORD, 3600);
    const callee = await Phone.online(bob!, PASSWORD);
    // The challenge prepared with the 200 to the REGISTER is older than a nonce lives (five minutes) when it is used.
    clock.advance(6 * 60_000);
    const callId = `stale-${alice}`;
    const first = invite(alice!, bob!, callId, 1);
    caller.send(first);
    const challenge = await caller.expectResponse();
    expect(challenge.status).toBe(407);
    caller.send(createAckForFailure(first, challenge));
    const second = invite(alice!, bob!, callId, 2, answer(challenge, alice!, PASSWORD, bob!));
    caller.send(second);
    const stale = await caller.expectResponse();
    expect(stale.status).toBe(407);
    expect(getHeaders(stale, 'Proxy-Authenticate').every((value) => /stale=true/i.test(value))).toBe(true);
    caller.send(createAckForFailure(second, stale));
    caller.send(invite(alice!, bob!, callId, 3, answer(stale, alice!, PASSWORD, bob!)));
    expect((await caller.expectResponse(undefined, false)).status).toBe(100);
    const incoming = await callee.incoming();
    incoming.reject(486);
    expect((await caller.expectResponse()).status).toBe(486);
    caller.socket.close();
    callee.socket.close();
  });

  it('goes to the user object after a failed attempt, which slows the user down as before', async () => {
    const [alice, bob] = await freshUsers('alice', 'bob');
    const caller = await Phone.online(alice!, PASSWORD);
    const callId = `guess-${alice}`;
    let cseq = 1;
    const first = invite(alice!, bob!, callId, cseq);
    caller.send(first);
    let challenge = await caller.expectResponse();
    expect(challenge.status).toBe(407);
    caller.send(createAckForFailure(first, challenge));
    const statuses: number[] = [];
    for (let attempt = 0; attempt < 5; attempt += 1) {
      cseq += 1;
      const guess = invite(alice!, bob!, callId, cseq, answer(challenge, alice!, 'wrong guess', bob!));
      caller.send(serializeMessage(guess));
      const response = await caller.expectResponse();
      statuses.push(response.status);
      caller.send(createAckForFailure(guess, response));
      if (response.status === 407) challenge = response;
    }
    // The prepared challenge answered the first INVITE; the wrong answers are counted by the user's object.
    expect(statuses).toEqual([407, 407, 407, 407, 503]);
    // A fresh INVITE without credentials is not answered from a prepared challenge: the slow-down shows.
    caller.send(invite(alice!, bob!, `guess-again-${alice}`, 1));
    expect((await caller.expectResponse()).status).toBe(503);
    caller.socket.close();
  });
});

describe('the 407 to a MESSAGE on a socket that registered', () => {
  it('comes prepared message after message, and each message is delivered', async () => {
    const [alice, bob] = await freshUsers('alice', 'bob');
    const sender = await Phone.online(alice!, PASSWORD);
    const recipient = await Phone.online(bob!, PASSWORD);
    for (const text of ['one', 'two', 'three']) {
      const sent = sender.message(bob!, text);
      const received = await recipient.expectRequest('MESSAGE');
      expect(new TextDecoder().decode(received.body)).toBe(text);
      recipient.respond(received, 200);
      expect((await sent).status).toBe(200);
    }
    sender.socket.close();
    recipient.socket.close();
  });
});
