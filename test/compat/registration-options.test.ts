/**
 * Client compatibility, registration: the SIP.js UserAgent/Registerer options and the JsSIP UA
 * settings that change a REGISTER, each configured as the library's documentation says, against
 * the local edge. What is asserted is what a user notices: the phone says registered (or says why
 * not), and another user can reach it (a MESSAGE arrives, answered 200 rather than stored with
 * 202). The edge's side is read from its operator API (register log).
 */
import { describe, expect, it } from 'vitest';
import { JsSipClient, SipJsClient, header } from './support/clients.ts';
import { within } from '../edge/support/test-edge.ts';
import { useCompatEdge } from './support/compat-edge.ts';

const compat = useCompatEdge();

function sipJs(account: { name: string; password: string }, options: Omit<ConstructorParameters<typeof SipJsClient>[0], 'edge' | 'username' | 'password'> = {}): SipJsClient {
  const client = new SipJsClient({ edge: compat.edge, username: account.name, password: account.password, ...options });
  compat.keep(client);
  return client;
}

function jsSip(account: { name: string; password: string }, options: Omit<ConstructorParameters<typeof JsSipClient>[0], 'edge' | 'username' | 'password'> = {}): JsSipClient {
  const client = new JsSipClient({ edge: compat.edge, username: account.name, password: account.password, ...options });
  compat.keep(client);
  return client;
}

/** Another user's MESSAGE reaches `name` on a registered device: 200, not 202 (stored for later). */
async function reachable(name: string, inbox: { messages: { next(ms?: number): Promise<{ body: string }> } }): Promise<void> {
  const sender = sipJs(await compat.user('sender'));
  await sender.start();
  const body = `hello ${name} ✓`;
  expect(await sender.message(name, body)).toBe(200);
  expect((await inbox.messages.next()).body).toBe(body);
}

/** The Expires a REGISTER asked for: the Contact's expires parameter, else the Expires header. */
function askedExpires(text: string): number {
  const contact = header(text, 'contact', 'm') ?? '';
  const param = /;expires=(\d+)/.exec(contact)?.[1] ?? header(text, 'expires');
  return Number(param);
}

describe('registerExpires / register_expires', () => {
  const rows = [
    { asked: 30, granted: 60, what: 'too short: 423 with Min-Expires, and the client retries with it' },
    { asked: 86_400, granted: 3600, what: 'long: the edge grants its maximum and the client refreshes on time' },
  ];
  for (const row of rows) {
    it(`SIP.js Registerer expires ${row.asked} (${row.what})`, async () => {
      const account = await compat.user('sipjsexp');
      const client = sipJs(account, { registerer: { expires: row.asked } });
      await client.start();
      const registers = client.sent('REGISTER');
      expect(askedExpires(registers.at(-1)!.text)).toBe(row.asked < 60 ? 60 : row.asked);
      if (row.asked < 60) expect(client.responses('REGISTER').some((each) => each.first === '423' && header(each.text, 'min-expires') === '60')).toBe(true);
      const ok = client.responses('REGISTER').at(-1)!;
      expect(ok.first).toBe('200');
      expect(header(ok.text, 'contact', 'm')).toMatch(new RegExp(`;expires=${row.granted}$`));
      await reachable(account.name, client);
    });

    it(`JsSIP register_expires ${row.asked} (${row.what})`, async () => {
      const account = await compat.user('jssipexp');
      const client = jsSip(account, { config: { register_expires: row.asked } });
      const outcome = await client.start();
      expect(outcome?.status).toBe(200);
      if (row.asked < 60) {
        expect(client.responses('REGISTER').some((each) => each.first === '423' && header(each.text, 'min-expires') === '60')).toBe(true);
        expect(askedExpires(client.sent('REGISTER').at(-1)!.text)).toBe(60);
      }
      expect(outcome?.contacts[0]).toMatch(new RegExp(`;expires=${row.granted}$`));
      await reachable(account.name, client);
    });
  }
});

describe('authorizationUsername / authorization_user different from the URI user', () => {
  // sipedge's credentials are per user and it has no aliases: a device authenticates as the user
  // it registers, or is refused with 403 and a reason naming both (a password prompt, 401, would
  // suggest a wrong password when the configuration is what is wrong).
  it('SIP.js: another user\'s valid credentials are refused with 403, and the phone is not registered', async () => {
    const account = await compat.user('sipjsauth');
    const other = await compat.user('sipjsother');
    const client = sipJs(account, { ua: { authorizationUsername: other.name, authorizationPassword: other.password } });
    await client.ua.start();
    void client.registerer!.register();
    const refused = await waitFor(() => client.responses('REGISTER').find((each) => each.first !== '401'));
    expect(refused.first).toBe('403');
    expect(refused.text.split('\r\n', 1)[0]).toBe(`SIP/2.0 403 ${other.name} may not act as ${account.name}`);
  });

  it('JsSIP: the same, as registrationFailed with 403', async () => {
    const account = await compat.user('jssipauth');
    const other = await compat.user('jssipother');
    const client = jsSip({ name: account.name, password: other.password }, { config: { authorization_user: other.name } });
    expect((await client.start())?.status).toBe(403);
  });

  it('SIP.js and JsSIP: the URI user itself as authorization user (what the docs show) registers', async () => {
    const a = await compat.user('sipjsself');
    const b = await compat.user('jssipself');
    const one = sipJs(a, { ua: { authorizationUsername: a.name } });
    await one.start();
    const two = jsSip(b, { config: { authorization_user: b.name } });
    expect((await two.start())?.status).toBe(200);
    await reachable(a.name, one);
    await reachable(b.name, two);
  });
});

describe('userAgentString / user_agent', () => {
  it('is what the register log shows for each device', async () => {
    const a = await compat.user('sipjsua');
    const b = await compat.user('jssipua');
    await sipJs(a, { ua: { userAgentString: 'Acme Softphone/1.2 (SIP.js)' } }).start();
    expect((await jsSip(b, { config: { user_agent: 'Acme Softphone/1.2 (JsSIP)' } }).start())?.status).toBe(200);
    expect((await compat.edge.registerLog(a.name)).filter((each) => each.status === 200).map((each) => each.userAgent)).toContain('Acme Softphone/1.2 (SIP.js)');
    expect((await compat.edge.registerLog(b.name)).filter((each) => each.status === 200).map((each) => each.userAgent)).toContain('Acme Softphone/1.2 (JsSIP)');
  });
});

describe('registrarServer / registrar_server', () => {
  // A REGISTER's Request-URI must name the registrar (RFC 3261 §10.3 step 1): the SIP domain, even
  // when it differs in form from the AOR (a port, a transport parameter), or the host the client
  // connected to (here 127.0.0.1, the host of the WebSocket URL), as a client configured with the
  // edge's host name as its registrar sends. One naming another host is refused 404 with the reason.
  const rows = [
    { registrar: (domain: string) => `sip:${domain};transport=ws`, status: 200 },
    { registrar: (domain: string) => `sip:${domain.toUpperCase()}:5060`, status: 200 },
    { registrar: () => 'sip:127.0.0.1', status: 200 },
    { registrar: () => 'sip:registrar.elsewhere.example', status: 404 },
  ];
  for (const row of rows) {
    it(`SIP.js Registerer registrar ${row.registrar('<domain>')}: ${row.status}`, async () => {
      const account = await compat.user('sipjsreg');
      const registrar = SipJsClient.uri(row.registrar(compat.edge.domain));
      const client = sipJs(account, { registerer: { registrar } });
      await client.ua.start();
      void client.registerer!.register();
      const final = await waitFor(() => client.responses('REGISTER').find((each) => each.first !== '401'));
      expect(final.first).toBe(String(row.status));
      expect(client.sent('REGISTER').at(-1)!.text.split('\r\n', 1)[0]).toBe(`REGISTER ${row.registrar(compat.edge.domain)} SIP/2.0`);
      if (row.status === 404) expect(final.text.split('\r\n', 1)[0]).toBe('SIP/2.0 404 Domain Not Served Here');
      else await reachable(account.name, client);
    });

    it(`JsSIP registrar_server ${row.registrar('<domain>')}: ${row.status}`, async () => {
      const account = await compat.user('jssipreg');
      const client = jsSip(account, { config: { registrar_server: row.registrar(compat.edge.domain) } });
      expect((await client.start())?.status).toBe(row.status);
      if (row.status === 200) await reachable(account.name, client);
    });
  }

  it('SIP.js on the per-user URL /sip/<user> with the connected host as registrar: 200', async () => {
    const account = await compat.user('sipjsreghost');
    const client = sipJs(account, { ua: { transportOptions: { server: `${compat.edge.webSocketUrl}/${account.name}` } }, registerer: { registrar: SipJsClient.uri('sip:127.0.0.1') } });
    await client.ua.start();
    void client.registerer!.register();
    const final = await waitFor(() => client.responses('REGISTER').find((each) => each.first !== '401'));
    expect(final.first).toBe('200');
    await reachable(account.name, client);
  });
});

describe('message-waiting (RFC 3842) for clients that subscribe', () => {
  // The edge keeps no voicemail: a device subscribing to its own message-summary is answered 200
  // and told "Messages-Waiting: no" (instead of 489, which some softphones retry forever).
  it('SIP.js Subscriber to its own message-summary gets a NOTIFY with Messages-Waiting: no', async () => {
    const account = await compat.user('sipjsmwi');
    const client = sipJs(account);
    await client.start();
    const body = await client.subscribe(account.name, 'message-summary');
    expect(body).toMatch(/^Messages-Waiting: no\r\nMessage-Account: sip:sipjsmwi\d+@/);
    // Unsubscribing (Expires: 0) is answered and ends with a final NOTIFY.
    await within(10_000, 'unsubscribe', client.subscribers[0]!.unsubscribe());
    await waitFor(() => client.wire.find((each) => each.direction === 'received' && each.first === 'NOTIFY' && /^Subscription-State: terminated/m.test(each.text)));
  });

  it('JsSIP subscribing to another user\'s presence gets the 200 before the first NOTIFY (JsSIP answers an earlier NOTIFY with 481)', async () => {
    const watched = await compat.user('watched');
    const account = await compat.user('jssipwatch');
    const client = jsSip(account);
    expect((await client.start())?.status).toBe(200);
    const body = await client.subscribe(watched.name, 'presence', 'application/pidf+xml');
    expect(body).toContain('<basic>closed</basic>');
    expect(client.wire.some((each) => each.direction === 'sent' && each.first === '481')).toBe(false);
  });

  it('JsSIP subscribe to its own message-summary gets the same', async () => {
    const account = await compat.user('jssipmwi');
    const client = jsSip(account);
    expect((await client.start())?.status).toBe(200);
    const body = await client.subscribe(account.name, 'message-summary', 'application/simple-message-summary');
    expect(body).toMatch(/^Messages-Waiting: no\r\nMessage-Account: sip:jssipmwi\d+@/);
  });
});

/** Polls `find` (what the client has logged so far) until it gives something, for up to 10 s. */
async function waitFor<T>(find: () => T | undefined, ms = 10_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const found = find();
    if (found !== undefined) return found;
    if (Date.now() > deadline) throw new Error('nothing within the time');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
