/**
 * Blind transfer (RFC 3515 REFER) through the edge's B2BUA: the transferor's REFER is vetted and
 * relayed to the transferee as a REFER on its own leg, the transferee's 202 and NOTIFYs
 * (message/sipfrag) come back, and REFERs the edge must not pass on never reach a device.
 */
import { describe, expect, it } from 'vitest';
import { getHeader, serializeMessage } from '../../shared/message/index.ts';
import { generateBranch } from '../../shared/transaction/index.ts';
import { freshUsers, PASSWORD } from './support/call-fixtures.ts';
import { bodyText, Phone, type IncomingCall, type OutgoingCall } from './support/phone.ts';
import { DOMAIN } from './support/users.ts';

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

function referTo(user: string, domain = DOMAIN): { name: string; value: string }[] {
  return [{ name: 'Refer-To', value: `<sip:${user}@${domain}>` }];
}

function sipfrag(status: string, state: string): { body: string; contentType: string; headers: { name: string; value: string }[] } {
  return {
    body: `SIP/2.0 ${status}\r\n`,
    contentType: 'message/sipfrag;version=2.0',
    headers: [{ name: 'Event', value: 'refer' }, { name: 'Subscription-State', value: state }],
  };
}

function close(...phones: Phone[]): void {
  for (const phone of phones) phone.socket.close();
}

describe('blind transfer within a call', () => {
  it('relays the caller’s REFER to the callee, the 202 back, and the NOTIFYs of the new call to the caller', async () => {
    const [alice, bob, carol] = await freshUsers('alice', 'bob', 'carol');
    const { caller, callee, outgoing, incoming } = await connect(alice!, bob!);
    const target = await Phone.online(carol!, PASSWORD);

    outgoing.request('REFER', { headers: referTo(carol!) });
    const refer = await callee.expectRequest('REFER');
    expect(getHeader(refer, 'Refer-To')).toBe(`<sip:${carol}@${DOMAIN}>`);
    // RFC 3892: the transferee learns from the edge who referred it.
    expect(getHeader(refer, 'Referred-By')).toBe(`<sip:${alice}@${DOMAIN}>`);
    callee.respond(refer, 202);
    expect((await caller.expectResponse()).status).toBe(202);

    // RFC 3515 §2.4.4: the implicit subscription's first NOTIFY says 100 Trying.
    incoming.request('NOTIFY', sipfrag('100 Trying', 'active;expires=60'));
    const trying = await caller.expectRequest('NOTIFY');
    expect(getHeader(trying, 'Event')).toBe('refer');
    expect(getHeader(trying, 'Subscription-State')).toBe('active;expires=60');
    expect(getHeader(trying, 'Content-Type')).toBe('message/sipfrag;version=2.0');
    expect(bodyText(trying)).toBe('SIP/2.0 100 Trying\r\n');
    caller.respond(trying, 200);
    expect((await callee.expectResponse()).status).toBe(200);

    // The transferee's client follows the REFER: a call of its own, to the target.
    const transferred = await callee.call(carol!);
    const ringing = await target.incoming();
    ringing.answer();
    expect((await transferred.response()).status).toBe(200);
    transferred.ack();
    await target.expectRequest('ACK');

    incoming.request('NOTIFY', sipfrag('200 OK', 'terminated;reason=noresource'));
    const done = await caller.expectRequest('NOTIFY');
    expect(bodyText(done)).toBe('SIP/2.0 200 OK\r\n');
    expect(getHeader(done, 'Subscription-State')).toBe('terminated;reason=noresource');
    caller.respond(done, 200);
    expect((await callee.expectResponse()).status).toBe(200);

    // The transferor hangs up; the transferee stays on with the target.
    outgoing.request('BYE');
    expect((await caller.expectResponse()).status).toBe(200);
    callee.respond(await callee.expectRequest('BYE'), 200);
    transferred.request('INFO', { body: 'Signal=1\r\n', contentType: 'application/dtmf-relay' });
    target.respond(await target.expectRequest('INFO'), 200);
    expect((await callee.expectResponse()).status).toBe(200);
    close(caller, callee, target);
  });

  it('relays a REFER from the callee to the caller, with a spoofed Referred-By replaced, and the final NOTIFY of a failure', async () => {
    const [alice, bob, carol] = await freshUsers('alice', 'bob', 'carol');
    const { caller, callee, outgoing, incoming } = await connect(alice!, bob!);
    incoming.request('REFER', { headers: [...referTo(carol!), { name: 'Referred-By', value: '"The Boss" <sip:boss@elsewhere.example>' }] });
    const refer = await caller.expectRequest('REFER');
    expect(getHeader(refer, 'Referred-By')).toBe(`"The Boss" <sip:${bob}@${DOMAIN}>`);
    caller.respond(refer, 202);
    expect((await callee.expectResponse()).status).toBe(202);
    outgoing.request('NOTIFY', sipfrag('486 Busy Here', 'terminated;reason=noresource'));
    const busy = await callee.expectRequest('NOTIFY');
    expect(bodyText(busy)).toBe('SIP/2.0 486 Busy Here\r\n');
    callee.respond(busy, 200);
    expect((await caller.expectResponse()).status).toBe(200);
    close(caller, callee);
  });

  it('passes the transferee’s refusal back to the transferor', async () => {
    const [alice, bob, carol] = await freshUsers('alice', 'bob', 'carol');
    const { caller, callee, outgoing } = await connect(alice!, bob!);
    outgoing.request('REFER', { headers: referTo(carol!) });
    callee.respond(await callee.expectRequest('REFER'), 603);
    expect((await caller.expectResponse()).status).toBe(603);
    close(caller, callee);
  });
});

describe('REFERs the edge does not pass on', () => {
  it('answers 403 to a Refer-To outside the domain, and the other party hears nothing', async () => {
    const [alice, bob] = await freshUsers('alice', 'bob');
    const { caller, callee, outgoing } = await connect(alice!, bob!);
    outgoing.request('REFER', { headers: referTo('mallory', 'evil.example') });
    const refused = await caller.expectResponse();
    expect(refused.status).toBe(403);
    outgoing.request('REFER', { headers: [{ name: 'Refer-To', value: '<tel:+15550100>' }] });
    expect((await caller.expectResponse()).status).toBe(403);
    await callee.expectSilence();
    close(caller, callee);
  });

  it('answers 400 to no Refer-To or two (RFC 3515 §2.4.1) or a malformed Replaces, 403 to a method other than INVITE', async () => {
    const [alice, bob, carol] = await freshUsers('alice', 'bob', 'carol');
    const { caller, callee, outgoing } = await connect(alice!, bob!);
    outgoing.request('REFER');
    expect((await caller.expectResponse()).status).toBe(400);
    outgoing.request('REFER', { headers: [...referTo(carol!), ...referTo(bob!)] });
    expect((await caller.expectResponse()).status).toBe(400);
    outgoing.request('REFER', { headers: [{ name: 'Refer-To', value: `<sip:${carol}@${DOMAIN};method=BYE>` }] });
    expect((await caller.expectResponse()).status).toBe(403);
    // RFC 3891 §6.1: a Replaces needs both tags.
    outgoing.request('REFER', { headers: [{ name: 'Refer-To', value: `<sip:${carol}@${DOMAIN}?Replaces=abc%40x%3Bto-tag%3D1>` }] });
    const replaces = await caller.expectResponse();
    expect(replaces.status).toBe(400);
    expect(replaces.reason).toBe('Malformed Replaces');
    await callee.expectSilence();
    close(caller, callee);
  });

  it('never forwards an out-of-dialog REFER to a device: 403', async () => {
    const [alice, bob, carol] = await freshUsers('alice', 'bob', 'carol');
    const mallory = await Phone.online(alice!, PASSWORD);
    const victim = await Phone.online(bob!, PASSWORD);
    mallory.send(
      serializeMessage({
        kind: 'request',
        method: 'REFER',
        uri: `sip:${bob}@${DOMAIN}`,
        version: 'SIP/2.0',
        headers: [
          { name: 'Via', value: `SIP/2.0/WSS x.invalid;branch=${generateBranch()}` },
          { name: 'Max-Forwards', value: '70' },
          { name: 'To', value: `<sip:${bob}@${DOMAIN}>` },
          { name: 'From', value: `<sip:${alice}@${DOMAIN}>;tag=r1` },
          { name: 'Call-ID', value: `refer-${alice}` },
          { name: 'CSeq', value: '1 REFER' },
          { name: 'Contact', value: mallory.contact },
          { name: 'Refer-To', value: `<sip:${carol}@${DOMAIN}>` },
          { name: 'Content-Length', value: '0' },
        ],
        body: new Uint8Array(0),
      }),
    );
    expect((await mallory.expectResponse()).status).toBe(403);
    await victim.expectSilence();
    close(mallory, victim);
  });
});
