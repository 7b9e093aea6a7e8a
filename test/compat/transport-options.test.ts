/**
 * Client compatibility, transport: the SIP.js and JsSIP options that decide where a client
 * connects and what its Via, Contact and Route say, configured as the libraries document them,
 * against the local edge. The assertions are what a user notices: registered, reachable (a call
 * from another user rings it, connects and hangs up), able to call out, and still so after the
 * edge address it used went away or the edge restarted (a redeploy). Two edge addresses are two
 * TCP relays to the same local edge (`compat-edge.ts`). Node has no WebRTC: the SDP is fixed and
 * only the signalling is asserted.
 */
import type { RTCSession } from 'jssip/lib/RTCSession';
import { Inviter, SessionState, type UserAgentOptions } from 'sip.js';
import { describe, expect, it } from 'vitest';
import { installFakeWebRtc, webRtcSdp } from '../edge/support/static-media.ts';
import { within } from '../edge/support/test-edge.ts';
import { JsSipClient, SipJsClient, jssipEvent, reach, wireMessage, type JsSipClientOptions, type WireMessage } from './support/clients.ts';
import { useCompatEdge } from './support/compat-edge.ts';

installFakeWebRtc(webRtcSdp('7777'));

const compat = useCompatEdge();

async function sipJs(prefix: string, ua: Partial<UserAgentOptions> = {}): Promise<{ name: string; client: SipJsClient }> {
  const account = await compat.user(prefix);
  const client = new SipJsClient({ edge: compat.edge, username: account.name, password: account.password, ua });
  compat.keep(client);
  await client.start();
  return { name: account.name, client };
}

async function jsSip(prefix: string, options: Omit<JsSipClientOptions, 'edge' | 'username' | 'password'> = {}): Promise<{ name: string; client: JsSipClient }> {
  const account = await compat.user(prefix);
  const client = new JsSipClient({ edge: compat.edge, username: account.name, password: account.password, ...options });
  compat.keep(client);
  expect((await client.start())?.status).toBe(200);
  return { name: account.name, client };
}

/** A SIP.js user calls `name`, whose client answers; the caller hangs up; both see the call end. */
async function callConnects(name: string, callee: SipJsClient | JsSipClient): Promise<void> {
  const caller = await sipJs('caller');
  const inviter = new Inviter(caller.client.ua, caller.client.target(name));
  if (callee instanceof SipJsClient) {
    const incoming = callee.invitations.next();
    await inviter.invite();
    const invitation = await incoming;
    await invitation.accept();
    await reach(inviter, SessionState.Established);
    await reach(invitation, SessionState.Established);
    await inviter.bye();
    await reach(invitation, SessionState.Terminated);
  } else {
    const incoming = callee.sessions.next();
    await inviter.invite();
    const session = await incoming;
    const confirmed = jssipEvent(session, 'confirmed');
    JsSipClient.answer(session);
    await reach(inviter, SessionState.Established);
    await confirmed;
    const ended = jssipEvent(session, 'ended');
    await inviter.bye();
    expect((await ended).originator).toBe('remote');
  }
}

/** `client` sends a MESSAGE to a fresh registered user, who gets it. */
async function callsOut(client: SipJsClient | JsSipClient): Promise<void> {
  const peer = await sipJs('peer');
  expect(await client.message(peer.name, 'ping ✓')).toBe(200);
  expect((await peer.client.messages.next()).body).toBe('ping ✓');
}

describe('Via, Contact and Route options: registered, reachable, and calling out', () => {
  const sipJsRows: { option: string; ua: (port: number) => Partial<UserAgentOptions>; wire: (register: string) => void }[] = [
    { option: 'hackViaTcp', ua: () => ({ hackViaTcp: true }), wire: (register) => expect(register).toMatch(/^Via: SIP\/2\.0\/TCP /m) },
    { option: 'hackIpInContact', ua: () => ({ hackIpInContact: true }), wire: (register) => expect(register).toMatch(/^Contact: <sip:[^@]+@\d+\.\d+\.\d+\.\d+;transport=ws>/m) },
    { option: 'hackIpInContact "192.0.2.10"', ua: () => ({ hackIpInContact: '192.0.2.10' }), wire: (register) => expect(register).toMatch(/^Contact: <sip:[^@]+@192\.0\.2\.10;transport=ws>/m) },
    // SIP.js 0.21 replaced hackWssInTransport by contactParams; this is what the old hack put on the wire.
    { option: 'hackWssInTransport (contactParams transport=wss)', ua: () => ({ contactParams: { transport: 'wss' } }), wire: (register) => expect(register).toMatch(/^Contact: <sip:[^>]+;transport=wss>/m) },
    { option: 'preloadedRouteSet (usePreloadedRoute)', ua: (port) => ({ preloadedRouteSet: [`sip:127.0.0.1:${port};transport=ws;lr`] }), wire: (register) => expect(register).toMatch(/^Route: <?sip:127\.0\.0\.1:\d+;transport=ws;lr>?\r?$/m) },
    { option: 'viaHost', ua: () => ({ viaHost: 'phone.example.net' }), wire: (register) => expect(register).toMatch(/^Via: SIP\/2\.0\/WS phone\.example\.net;/m) },
  ];
  for (const row of sipJsRows) {
    it(`SIP.js ${row.option}`, async () => {
      const { name, client } = await sipJs('sipjshack', row.ua(compat.edge.port));
      row.wire(client.sent('REGISTER').at(-1)!.text);
      await callConnects(name, client);
      await callsOut(client);
    });
  }

  const jsSipRows: { option: string; options: (port: number) => Omit<JsSipClientOptions, 'edge' | 'username' | 'password'>; wire: (register: string) => void }[] = [
    { option: 'socket via_transport "TCP" (hack_via_tcp)', options: () => ({ sockets: [{ url: compat.edge.webSocketUrl, viaTransport: 'TCP' }] }), wire: (register) => expect(register).toMatch(/^Via: SIP\/2\.0\/TCP /m) },
    { option: 'contact_uri with an IP address (hack_ip_in_contact)', options: () => ({ config: { contact_uri: 'sip:jssipphone@192.0.2.10;transport=ws' } }), wire: (register) => expect(register).toMatch(/^Contact: <sip:jssipphone@192\.0\.2\.10;transport=ws>/m) },
    { option: 'contact_uri with transport=wss (hack_wss_in_transport)', options: () => ({ config: { contact_uri: 'sip:jssipphone@phone.invalid;transport=wss' } }), wire: (register) => expect(register).toMatch(/^Contact: <sip:jssipphone@phone\.invalid;transport=wss>/m) },
    { option: 'use_preloaded_route', options: () => ({ config: { use_preloaded_route: true } }), wire: (register) => expect(register).toMatch(/^Route: <sip:127\.0\.0\.1:\d+;transport=ws;lr>/m) },
  ];
  for (const row of jsSipRows) {
    it(`JsSIP ${row.option}`, async () => {
      const { name, client } = await jsSip('jssiphack', row.options(compat.edge.port));
      row.wire(client.sent('REGISTER').at(-1)!.text);
      await callConnects(name, client);
      await callsOut(client);
    });
  }
});

describe('the per-user WebSocket URL (/sip/<user>)', () => {
  it('SIP.js with transportOptions.server ws://…/sip/<user> registers, is reachable and calls out', async () => {
    const account = await compat.user('sipjspath');
    const client = new SipJsClient({ edge: compat.edge, username: account.name, password: account.password, ua: { transportOptions: { server: `${compat.edge.webSocketUrl}/${account.name}` } } });
    compat.keep(client);
    await client.start();
    await callConnects(account.name, client);
    await callsOut(client);
  });

  it('JsSIP with a socket on ws://…/sip/<user> does the same', async () => {
    const account = await compat.user('jssippath');
    const client = new JsSipClient({ edge: compat.edge, username: account.name, password: account.password, sockets: [{ url: `${compat.edge.webSocketUrl}/${account.name}` }] });
    compat.keep(client);
    expect((await client.start())?.status).toBe(200);
    await callConnects(account.name, client);
    await callsOut(client);
  });
});

describe('JsSIP sockets with weights (two edge addresses)', () => {
  // SIP.js 0.21 takes one server (transportOptions.server); failing over between addresses is left
  // to the application there, so only JsSIP's list is exercised here.
  it('fails over when the preferred address goes away: registered again over the other (one binding), reachable, and its call goes on (RFC 5626)', async () => {
    const preferred = await compat.edge.relay();
    const fallback = await compat.edge.relay();
    const { name, client } = await jsSip('jssipfail', { sockets: [{ url: preferred.webSocketUrl, weight: 10 }, { url: fallback.webSocketUrl, weight: 1 }] });
    expect(client.ua.isRegistered()).toBe(true);

    // A call in progress with a SIP.js user.
    const other = await sipJs('other');
    const inviter = new Inviter(other.client.ua, other.client.target(name));
    const incoming = client.sessions.next();
    await inviter.invite();
    const session: RTCSession = await incoming;
    const confirmed = jssipEvent(session, 'confirmed');
    JsSipClient.answer(session);
    await reach(inviter, SessionState.Established);
    await confirmed;

    await preferred.close();
    const again = await client.registrations.next(30_000);
    expect(again.status).toBe(200);
    expect(again.contacts).toHaveLength(1);

    // The call goes on over the new flow: a re-INVITE from the other side reaches JsSIP...
    const reinvite = jssipEvent(session, 'reinvite', 30_000);
    const held = new Promise<number>((resolve) => {
      void inviter.invite({ requestDelegate: { onAccept: (response) => resolve(response.message.statusCode ?? 0), onReject: (response) => resolve(response.message.statusCode ?? 0) } });
    });
    await reinvite;
    expect(await within(15_000, 're-INVITE answered', held)).toBe(200);
    // ...and JsSIP's BYE reaches the other side.
    const ended = jssipEvent(session, 'ended');
    session.terminate();
    await ended;
    await reach(inviter, SessionState.Terminated, 15_000);

    // A new call reaches it through the address it fell back to.
    await callConnects(name, client);
  }, 90_000);
});

describe('an edge restart (a redeploy drops every WebSocket)', () => {
  // SIP.js 0.21's UserAgent reconnects when the application calls reconnect() (reconnectionAttempts,
  // reconnectionDelay); SipJsClient does so as SIP.js's SimpleUser does. JsSIP reconnects by itself
  // (connection_recovery_min_interval / max_interval).
  it('SIP.js (instanceId) and JsSIP (instance_id) register again with one binding each and are reachable; nothing rings a dead socket', async () => {
    const a = await sipJs('sipjsrestart', { instanceId: '8f1fa16a-1165-4a96-8341-785b1ef24203', instanceIdAlwaysAdded: true });
    const b = await jsSip('jssiprestart', { config: { instance_id: '2f4d3c5e-9b1a-4c7d-8e6f-0a1b2c3d4e5f', connection_recovery_min_interval: 1, connection_recovery_max_interval: 2 } });
    expect(a.client.sent('REGISTER').at(-1)!.text).toContain('+sip.instance="<urn:uuid:8f1fa16a-1165-4a96-8341-785b1ef24203>"');
    expect(b.client.sent('REGISTER').at(-1)!.text).toContain('+sip.instance="<urn:uuid:2f4d3c5e-9b1a-4c7d-8e6f-0a1b2c3d4e5f>"');
    const before = a.client.responses('REGISTER').length;

    await within(120_000, 'edge restart', compat.edge.restart());

    await waitUntil(() => a.client.responses('REGISTER').slice(before).some((each) => each.first === '200'), 90_000, 'SIP.js registered again');
    const bAgain = await b.client.registrations.next(90_000);
    expect(bAgain.contacts).toHaveLength(1);
    const aOk = a.client.responses('REGISTER').at(-1)!;
    expect(aOk.first).toBe('200');
    expect(contacts(aOk)).toHaveLength(1);
    // Each is reached on its new socket: the call rings the live device and connects.
    await callConnects(a.name, a.client);
    await callConnects(b.name, b.client);
  }, 300_000);
});

describe('a call across an edge restart', () => {
  it('goes on once both ends have registered again: SIP.js re-INVITEs and JsSIP hangs up over the new sockets', async () => {
    const a = await sipJs('sipjsacross', { instanceId: 'c7a1a0de-5f0e-4d43-9b55-2a4f1f3f6a11', instanceIdAlwaysAdded: true });
    const b = await jsSip('jssipacross', { config: { instance_id: '5b0c2d1e-7a3f-4e9b-8c6d-1f2e3a4b5c6d' } });
    const inviter = new Inviter(a.client.ua, a.client.target(b.name));
    const incoming = b.client.sessions.next();
    await inviter.invite();
    const session = await incoming;
    const confirmed = jssipEvent(session, 'confirmed');
    JsSipClient.answer(session);
    await reach(inviter, SessionState.Established);
    await confirmed;
    const before = a.client.responses('REGISTER').length;

    await within(120_000, 'edge restart', compat.edge.restart());

    await waitUntil(() => a.client.responses('REGISTER').slice(before).some((each) => each.first === '200'), 90_000, 'SIP.js registered again');
    expect((await b.client.registrations.next(90_000)).status).toBe(200);
    const reinvite = jssipEvent(session, 'reinvite', 30_000);
    const answered = new Promise<number>((resolve) => {
      void inviter.invite({ requestDelegate: { onAccept: (response) => resolve(response.message.statusCode ?? 0), onReject: (response) => resolve(response.message.statusCode ?? 0) } });
    });
    await reinvite;
    expect(await within(30_000, 're-INVITE answered', answered)).toBe(200);
    const ended = jssipEvent(session, 'ended');
    session.terminate();
    await ended;
    await reach(inviter, SessionState.Terminated, 15_000);
  }, 300_000);
});

describe('traceSip: the edge\'s trace of a user holds what the client logged', () => {
  it('SIP.js (transportOptions.traceSip) and JsSIP (its socket) log the same Call-ID/CSeq/method sequence as GET /api/v1/users/:u/trace', async () => {
    const a = await sipJs('sipjstrace');
    const b = await jsSip('jssiptrace');
    await callConnects(a.name, a.client);
    await callConnects(b.name, b.client);
    expect(await a.client.message(b.name, 'traced ✓')).toBe(200);
    await b.client.messages.next();
    for (const each of [a, b]) {
      const seen = each.client.wire.map(step);
      expect(seen.length).toBeGreaterThan(10);
      const traced = await waitForTrace(each.name, seen.length);
      expect(traced).toEqual(seen);
    }
  }, 60_000);
});

/** A message as a sequence step: which way (seen from the edge), start line's method or status, Call-ID, CSeq. */
function step(message: WireMessage): string {
  return `${message.direction === 'sent' ? 'in' : 'out'} ${message.first} ${message.callId} ${message.cseq}`;
}

async function waitForTrace(name: string, count: number): Promise<string[]> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const records = await compat.edge.trace(name);
    // What came in to the edge is what the client sent.
    const steps = records.flatMap((record) => {
      const message = wireMessage(record.direction === 'in' ? 'sent' : 'received', record.message);
      return message === undefined ? [] : [step(message)];
    });
    if (steps.length >= count || Date.now() > deadline) return steps;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

async function waitUntil(done: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`${what}: nothing within ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

function contacts(response: WireMessage): string[] {
  return response.text.split('\r\n').filter((line) => /^(contact|m):/i.test(line));
}
