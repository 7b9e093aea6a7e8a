/**
 * The challenge a SipConnection answers by itself (workers/registrar/prepared-challenge.ts): after a
 * successful REGISTER, the next REGISTER without credentials on that socket is challenged with a
 * nonce the user's object prepared, which the registrar then accepts; the exchange still shows in
 * the user's trace, in order; and a user with a recent failed attempt is always answered by its own
 * object (so a lock-out is seen at once).
 */
import { describe, expect, it } from 'vitest';
import { getHeader, getHeaders } from '../../shared/message/index.ts';
import { Device } from './support/register-client.ts';
import { openSipSocket } from './support/sip-socket.ts';
import { createUser, userStub } from './support/users.ts';

const PASSWORD = 'correct horse battery';

describe('a registration on a socket that registered before', () => {
  it('is challenged with a prepared nonce the registrar accepts, and traced in order', async () => {
    await createUser('prepared1', PASSWORD);
    const socket = await openSipSocket();
    expect((await new Device(socket, { user: 'prepared1', password: PASSWORD }).register({ expires: 600 })).status).toBe(200);

    // A client that takes a fresh challenge for every registration (as load generators and some phones do).
    const again = new Device(socket, { user: 'prepared1', password: PASSWORD, algorithms: ['MD5'] });
    const challenge = await again.send({ expires: 600 });
    expect(challenge.status).toBe(401);
    expect(getHeaders(challenge, 'WWW-Authenticate')).toHaveLength(2);
    expect(getHeader(challenge, 'To')).toMatch(/;tag=/);
    expect((await again.send({ expires: 600 })).status).toBe(200);

    const records = (await userStub('prepared1').readTrace()).filter((record) => record.callId === again.callId);
    expect(records.map((record) => `${record.direction} ${record.summary}`)).toEqual([
      'in REGISTER sip:demo.sipedge.local SIP/2.0',
      'out SIP/2.0 401 Unauthorized',
      'in REGISTER sip:demo.sipedge.local SIP/2.0',
      'out SIP/2.0 200 OK',
    ]);
    expect(records.map((record) => record.at)).toEqual([...records.map((record) => record.at)].sort((a, b) => a - b));
    socket.close();
  });

  it('goes to the user object after a failed attempt, which slows and locks as before', async () => {
    await createUser('prepared2', PASSWORD);
    const socket = await openSipSocket();
    expect((await new Device(socket, { user: 'prepared2', password: PASSWORD }).register({ expires: 600 })).status).toBe(200);
    const guesser = new Device(socket, { user: 'prepared2', password: 'wrong guess' });
    const statuses: number[] = [];
    for (let attempt = 0; attempt < 6; attempt += 1) statuses.push((await guesser.send({ expires: 600 })).status);
    // The prepared challenge answers the first REGISTER; the wrong answers are counted by the user's object.
    expect(statuses.slice(0, 5)).toEqual([401, 401, 401, 401, 401]);
    expect(statuses[5]).toBe(503);
    // A fresh REGISTER without credentials is not answered from a prepared challenge: the slow-down shows.
    expect((await new Device(socket, { user: 'prepared2', password: PASSWORD }).send({ expires: 600 })).status).toBe(503);
    socket.close();
  });
});
