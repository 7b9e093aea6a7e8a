/**
 * Provisioning: the SIP.js and JsSIP configuration of a user, the one-time link that hands it to a
 * new device (once, then 410; revocable), its QR code, the domain's ICE servers, and the password
 * that exists only inside the sealed link.
 */
import { runInDurableObject } from 'cloudflare:test';
import { env, exports } from 'cloudflare:workers';
import { renderSVG } from 'uqr';
import { describe, expect, it } from 'vitest';
import { directoryOf, type Directory } from '../../workers/directory/directory.ts';
import { EDGE } from './support/sip-socket.ts';
import { DOMAIN, operatorHeaders, putUser } from './support/users.ts';

interface Provisioned {
  config: Record<string, unknown> & { sipjs: Record<string, unknown>; jssip: { configuration: Record<string, unknown>; webSocketUrl: string; callOptions: unknown } };
  link?: { id: string; url: string; expiresAt: string; includesPassword: boolean; qrSvg: string };
}

async function provision(username: string, body: unknown, headers = operatorHeaders()): Promise<Response> {
  return exports.default.fetch(`${EDGE}/api/v1/users/${username}/provisioning`, { method: 'POST', headers, body: JSON.stringify(body) });
}

async function open(url: string): Promise<Response> {
  return exports.default.fetch(url);
}

const PASSWORD = 'provisioned password';

describe('provisioning', () => {
  it('gives the configuration for SIP.js and JsSIP, never with a password, and a one-time link with its QR code', async () => {
    await putUser('pia', PASSWORD, 'Pia');
    const response = await provision('pia', { password: PASSWORD });
    expect(response.status).toBe(201);
    const text = await response.text();
    expect(text).not.toContain(PASSWORD);
    const { config, link } = JSON.parse(text) as Provisioned;
    const uri = `sip:pia@${DOMAIN}`;
    expect(config).toMatchObject({ username: 'pia', uri, authorizationUser: 'pia', displayName: 'Pia', webSocketUrl: 'wss://edge.test/sip/pia', iceServers: [] });
    expect(config.sipjs).toEqual({
      uri,
      transportOptions: { server: 'wss://edge.test/sip/pia' },
      authorizationUsername: 'pia',
      displayName: 'Pia',
      sessionDescriptionHandlerFactoryOptions: { peerConnectionConfiguration: { iceServers: [] } },
    });
    expect(config.jssip).toEqual({
      webSocketUrl: 'wss://edge.test/sip/pia',
      configuration: { uri, authorization_user: 'pia', display_name: 'Pia', register: true },
      callOptions: { pcConfig: { iceServers: [] } },
    });
    expect(link!.url).toMatch(/^https:\/\/edge\.test\/provision\/[A-Za-z0-9_-]{43}$/);
    expect(link!.includesPassword).toBe(true);
    expect(link!.qrSvg).toBe(renderSVG(link!.url));
    expect(link!.qrSvg.startsWith('<svg')).toBe(true);

    const first = await open(link!.url);
    expect(first.status).toBe(200);
    expect(first.headers.get('Cache-Control')).toBe('no-store');
    const opened = (await first.json()) as Provisioned['config'];
    expect(opened.sipjs.authorizationPassword).toBe(PASSWORD);
    expect(opened.jssip.configuration.password).toBe(PASSWORD);

    const second = await open(link!.url);
    expect(second.status).toBe(410);
    expect(second.headers.get('Content-Type')).toBe('application/problem+json');
  });

  it('keeps at rest only a sealed configuration, erased once the link is opened', async () => {
    await putUser('quinn', PASSWORD);
    const { link } = (await (await provision('quinn', { password: PASSWORD })).json()) as Provisioned;
    const token = link!.url.split('/').pop()!;
    const stored = async () =>
      runInDurableObject(directoryOf(env, DOMAIN), (_instance: Directory, state) => state.storage.sql.exec('SELECT * FROM provisioning_link WHERE id = ?', link!.id).one());
    const row = await stored();
    const sealed = atob(String(row.sealed).replaceAll('-', '+').replaceAll('_', '/'));
    expect(JSON.stringify(row)).not.toContain(PASSWORD);
    expect(sealed).not.toContain(PASSWORD);
    expect(JSON.stringify(row)).not.toContain(token);
    await open(link!.url);
    expect((await stored()).sealed).toBeNull();
  });

  it('revokes a link, and every link of a deleted user', async () => {
    await putUser('rosa', PASSWORD);
    const { link } = (await (await provision('rosa', {})).json()) as Provisioned;
    expect(link!.includesPassword).toBe(false);
    const revoke = () => exports.default.fetch(`${EDGE}/api/v1/users/rosa/provisioning/${link!.id}`, { method: 'DELETE', headers: operatorHeaders() });
    expect((await revoke()).status).toBe(204);
    expect((await open(link!.url)).status).toBe(410);
    expect((await revoke()).status).toBe(404);

    const other = (await (await provision('rosa', {})).json()) as Provisioned;
    await exports.default.fetch(`${EDGE}/api/v1/users/rosa`, { method: 'DELETE', headers: operatorHeaders() });
    expect((await open(other.link!.url)).status).toBe(410);
    expect((await open(`${EDGE}/provision/${'A'.repeat(43)}`)).status).toBe(404);
    expect((await open(`${EDGE}/provision/short`)).status).toBe(404);
  });

  it('makes no link when asked not to, and refuses unknown users and bad input', async () => {
    await putUser('sam', PASSWORD);
    const plain = (await (await provision('sam', { link: false })).json()) as Provisioned;
    expect(plain.link).toBeUndefined();
    expect((await provision('nobody-here', {})).status).toBe(404);
    const bad = await provision('sam', { password: 'short', linkTtlSeconds: 10 });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { errors: { pointer: string }[] }).errors.map((error) => error.pointer)).toEqual(['#/password', '#/linkTtlSeconds']);
  });

  it('hands out the domain ICE servers, showing their credentials only to phones', async () => {
    const settings = { iceServers: [{ urls: ['turn:turn.example.net:3478?transport=udp', 'turns:turn.example.net:5349'], username: 'edge', credential: 'turn secret' }] };
    const put = await exports.default.fetch(`${EDGE}/api/v1/provisioning-settings`, { method: 'PUT', headers: operatorHeaders(), body: JSON.stringify(settings) });
    expect(put.status).toBe(200);
    const shown = await (await exports.default.fetch(`${EDGE}/api/v1/provisioning-settings`, { headers: operatorHeaders() })).json();
    expect(shown).toEqual({ iceServers: [{ urls: settings.iceServers[0]!.urls, username: 'edge' }] });

    await putUser('tom', PASSWORD);
    const { link } = (await (await provision('tom', {})).json()) as Provisioned;
    const opened = (await (await open(link!.url)).json()) as Provisioned['config'];
    expect(opened.iceServers).toEqual(settings.iceServers);
    expect(opened.jssip.callOptions).toEqual({ pcConfig: { iceServers: settings.iceServers } });

    const bad = await exports.default.fetch(`${EDGE}/api/v1/provisioning-settings`, { method: 'PUT', headers: operatorHeaders(), body: JSON.stringify({ iceServers: [{ urls: 'http://x' }] }) });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { errors: { pointer: string }[] }).errors[0]?.pointer).toBe('#/iceServers/0/urls');
    await exports.default.fetch(`${EDGE}/api/v1/provisioning-settings`, { method: 'PUT', headers: operatorHeaders(), body: JSON.stringify({ iceServers: [] }) });
  });

  it('lets a user provision its own devices with its own token', async () => {
    await putUser('ute', PASSWORD);
    const token = (await (await exports.default.fetch(`${EDGE}/api/v1/tokens`, { method: 'POST', headers: operatorHeaders(), body: JSON.stringify({ name: 'ute', username: 'ute' }) })).json()) as { token: string };
    const headers = { Authorization: `Bearer ${token.token}`, 'Content-Type': 'application/json' };
    const response = await exports.default.fetch(`${EDGE}/api/v1/me/provisioning`, { method: 'POST', headers, body: JSON.stringify({ password: PASSWORD }) });
    expect(response.status).toBe(201);
    expect(((await response.json()) as Provisioned).config.uri).toBe(`sip:ute@${DOMAIN}`);
    expect((await provision('ute', {}, headers)).status).toBe(403);
  });
});
