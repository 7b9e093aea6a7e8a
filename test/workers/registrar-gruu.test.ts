/**
 * GRUU (RFC 5627): a device that sends `Supported: gruu` and a `+sip.instance` gets a public and a
 * temporary GRUU in the 200 OK of its REGISTER; a call to either rings that one device, not the
 * user's other devices; a GRUU whose device is gone gets 480.
 */
import { describe, expect, it } from 'vitest';
import { getHeaders, type SipResponse } from '../../shared/message/index.ts';
import { Device } from './support/register-client.ts';
import { Phone } from './support/phone.ts';
import { openSipSocket } from './support/sip-socket.ts';
import { createUser, DOMAIN } from './support/users.ts';

const PASSWORD = 'correct horse battery';

/** The pub-gruu and temp-gruu of the Contact of `instance` in a 200 OK to REGISTER. */
function gruusOf(response: SipResponse, instance: string | undefined): { pub: string | undefined; temp: string | undefined } {
  const contact = getHeaders(response, 'Contact').find((value) => instance !== undefined && value.includes(instance)) ?? '';
  return { pub: /;pub-gruu="([^"]+)"/.exec(contact)?.[1], temp: /;temp-gruu="([^"]+)"/.exec(contact)?.[1] };
}

describe('GRUU', () => {
  it('is given to a device that asks, and only to one that asks', async () => {
    await createUser('gruu-alice', PASSWORD);
    const asking = new Device(await openSipSocket(), { user: 'gruu-alice', password: PASSWORD });
    const registered = await asking.register({ expires: 600 });
    expect(registered.status).toBe(200);
    const { pub, temp } = gruusOf(registered, asking.instance);
    const urn = asking.instance?.slice(1, -1);
    expect(pub).toBe(`sip:gruu-alice@${DOMAIN};gr=${urn}`);
    expect(temp).toMatch(new RegExp(`^sip:tgruu\\.[A-Za-z0-9_-]+@${DOMAIN.replaceAll('.', '\\.')};gr$`));
    // The temporary GRUU names neither the user nor the device.
    expect(temp).not.toContain('gruu-alice');
    expect(temp).not.toContain(urn ?? '');
    expect(getHeaders(registered, 'Supported').join(',')).toContain('gruu');

    const silent = new Device(await openSipSocket(), { user: 'gruu-alice', password: PASSWORD });
    const plain = await silent.register({ expires: 600, supported: 'path, outbound' });
    expect(plain.status).toBe(200);
    expect(getHeaders(plain, 'Contact').join('\n')).not.toContain('gruu=');
    asking.socket.close();
    silent.socket.close();
  });

  it('rings only the device a public or temporary GRUU names', async () => {
    await createUser('gruu-bob', PASSWORD);
    await createUser('gruu-carol', PASSWORD);
    const desk = await Phone.online('gruu-bob', PASSWORD);
    const mobile = await Phone.online('gruu-bob', PASSWORD);
    const refreshed = await mobile.device.register({ expires: 600 });
    const { pub, temp } = gruusOf(refreshed, mobile.device.instance);
    if (pub === undefined || temp === undefined) throw new Error('no GRUUs in the 200 OK');
    const carol = await Phone.online('gruu-carol', PASSWORD);

    for (const gruu of [pub, temp]) {
      await carol.call(gruu);
      const incoming = await mobile.incoming();
      await desk.expectSilence(500);
      incoming.reject(486);
      expect((await carol.expectResponse()).status).toBe(486);
      await mobile.expectRequest('ACK');
    }

    // The device goes away: its GRUU reaches nobody (480), and the user's other device is not rung.
    expect((await mobile.device.register({ expires: 0 })).status).toBe(200);
    await carol.call(pub);
    expect((await carol.expectResponse()).status).toBe(480);
    await desk.expectSilence(500);
  });
});
