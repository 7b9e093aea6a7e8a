/**
 * Message-waiting indication from a PBX (RFC 3842): an unsolicited NOTIFY on a link's connection
 * (the fake PBX) reaches the user's devices (WebSocket phones) as an out-of-dialog NOTIFY, the PBX
 * hears whether a device took it, and the user's message-summary subscribers get the summary.
 */
import { describe, expect, it, vi } from 'vitest';
import { getCSeq, getHeader, type SipRequest, type SipResponse } from '../../shared/message/index.ts';
import { freshUsers, PASSWORD } from './support/call-fixtures.ts';
import { FakePbx } from './support/fake-pbx.ts';
import { deleteLink, inLink, registeredLink as registeredLinkOf } from './support/pbx-links.ts';
import { bodyText, Phone } from './support/phone.ts';
import { Watch } from './support/watcher.ts';

const SUMMARY = 'Messages-Waiting: yes\r\nMessage-Account: sip:*97@pbx.example\r\nVoice-Message: 2/8 (0/2)\r\n';

let links = 0;

/** A link registered to its fake PBX, whose `endpoint` is `user`. */
async function registeredLink(user: string): Promise<{ id: string; pbx: FakePbx; contact: string }> {
  links += 1;
  return registeredLinkOf(`mwi${links}`, user);
}

/** The PBX's unsolicited NOTIFY (as Asterisk sends it for a mailbox) to `uri`. */
function pbxNotify(uri: string, callId: string, body = SUMMARY, event = 'message-summary'): string {
  return [
    `NOTIFY ${uri} SIP/2.0`,
    `Via: SIP/2.0/TCP 192.0.2.7:5060;branch=z9hG4bK${callId}`,
    'Max-Forwards: 70',
    'From: <sip:asterisk@pbx.example>;tag=mwi1',
    `To: <${uri}>`,
    `Call-ID: ${callId}`,
    'CSeq: 102 NOTIFY',
    `Event: ${event}`,
    'Subscription-State: terminated',
    'Content-Type: application/simple-message-summary',
    `Content-Length: ${new TextEncoder().encode(body).length}`,
    '',
    body,
  ].join('\r\n');
}

/** The link's final answer to the PBX's NOTIFY `callId`. */
function answerTo(pbx: FakePbx, callId: string): Promise<SipResponse> {
  return vi.waitFor(() => {
    const found = pbx.last.responses.find((response) => getHeader(response, 'Call-ID') === callId && getCSeq(response)?.method === 'NOTIFY' && response.status >= 200);
    if (found === undefined) throw new Error('no answer to the NOTIFY yet');
    return found;
  }, { timeout: 10_000, interval: 20 });
}

/** The device's next out-of-dialog NOTIFY, answered `status`. */
async function summaryAt(phone: Phone, status = 200): Promise<SipRequest> {
  const notify = await phone.expectRequest('NOTIFY');
  phone.respond(notify, status);
  return notify;
}

describe('message-waiting indication from a PBX', () => {
  it('sends the PBX\'s summary to both of the user\'s devices and answers the PBX 200', async () => {
    const [alice] = await freshUsers('alice');
    const desk = await Phone.online(alice!, PASSWORD);
    const laptop = await Phone.online(alice!, PASSWORD);
    const { id, pbx, contact } = await registeredLink(alice!);
    await inLink(id, () => pbx.last.send(pbxNotify(contact, 'mwi-both')));
    const [first, second] = await Promise.all([summaryAt(desk), summaryAt(laptop)]);
    for (const notify of [first!, second!]) {
      expect(getHeader(notify, 'Event')).toBe('message-summary');
      expect(getHeader(notify, 'Content-Type')).toBe('application/simple-message-summary');
      expect(getHeader(notify, 'To')).not.toMatch(/tag=/);
      expect(bodyText(notify)).toBe(SUMMARY);
    }
    expect((await answerTo(pbx, 'mwi-both')).status).toBe(200);
    await deleteLink(id);
  });

  it('answers 480 when none of the user\'s devices is online, 481 for a contact that names no user, 400 without Messages-Waiting', async () => {
    const [bob] = await freshUsers('bob');
    const { id, pbx, contact } = await registeredLink(bob!);
    await inLink(id, () => pbx.last.send(pbxNotify(contact, 'mwi-offline')));
    expect((await answerTo(pbx, 'mwi-offline')).status).toBe(480);
    await inLink(id, () => pbx.last.send(pbxNotify('sip:nobody@192.0.2.1:5060;transport=tcp', 'mwi-nobody')));
    expect((await answerTo(pbx, 'mwi-nobody')).status).toBe(481);
    await inLink(id, () => pbx.last.send(pbxNotify(contact, 'mwi-bad', 'Voice-Message: 1/0\r\n')));
    expect((await answerTo(pbx, 'mwi-bad')).status).toBe(400);
    // Another event package out of dialog is still not implemented.
    await inLink(id, () => pbx.last.send(pbxNotify(contact, 'mwi-other', SUMMARY, 'check-sync')));
    expect((await answerTo(pbx, 'mwi-other')).status).toBe(501);
    await deleteLink(id);
  });

  it('answers 480 when the only device refuses the NOTIFY', async () => {
    const [carol] = await freshUsers('carol');
    const phone = await Phone.online(carol!, PASSWORD);
    const { id, pbx, contact } = await registeredLink(carol!);
    await inLink(id, () => pbx.last.send(pbxNotify(contact, 'mwi-refused')));
    await summaryAt(phone, 481);
    expect((await answerTo(pbx, 'mwi-refused')).status).toBe(480);
    await deleteLink(id);
  });

  it('tells the user\'s message-summary subscribers the PBX\'s summary, and a new subscriber gets the last one', async () => {
    const [dave] = await freshUsers('dave');
    const phone = await Phone.online(dave!, PASSWORD);
    const watch = new Watch(phone, dave!, 'message-summary');
    const first = await watch.subscribe(600);
    expect(bodyText(first.notify!)).toMatch(/^Messages-Waiting: no\r\n/);
    const { id, pbx, contact } = await registeredLink(dave!);
    await inLink(id, () => pbx.last.send(pbxNotify(contact, 'mwi-sub')));
    // Two NOTIFYs reach the phone: the subscription's and the unsolicited one, in either order.
    const seen = [await phone.expectRequest('NOTIFY'), await phone.expectRequest('NOTIFY')];
    for (const notify of seen) phone.respond(notify, 200);
    const inSubscription = seen.find((notify) => getHeader(notify, 'Call-ID') === watch.callId);
    expect(inSubscription).toBeDefined();
    expect(bodyText(inSubscription!)).toBe(SUMMARY);
    expect(getHeader(inSubscription!, 'Subscription-State')).toMatch(/^active/);
    expect((await answerTo(pbx, 'mwi-sub')).status).toBe(200);
    const later = await new Watch(phone, dave!, 'message-summary').subscribe(600);
    expect(bodyText(later.notify!)).toBe(SUMMARY);
    await deleteLink(id);
  });
});
