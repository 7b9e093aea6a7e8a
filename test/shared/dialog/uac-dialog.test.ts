import { describe, expect, it } from 'vitest';
import { getCSeq, getFrom, getHeader, getHeaders, getTo, getTopVia } from '../../../shared/message/index.ts';
import {
  createDialogAck,
  createDialogRequest,
  createUacDialog,
  DialogError,
  dialogKey,
  incomingResponseDialogId,
  receiveDialogResponse,
  type Dialog,
} from '../../../shared/dialog/index.ts';
import { persisted } from '../../support/persisted.ts';
import { request, response } from '../../support/sip-messages.ts';

// RFC 3261 §24.2 style: Alice calls Bob through atlanta's and biloxi's record-routing proxies.
const invite = request({
  uri: 'sip:bob@biloxi.example.com',
  to: 'Bob <sip:bob@biloxi.example.com>',
  from: 'Alice <sip:alice@atlanta.example.com>;tag=9fxced76sl',
  callId: '3848276298220188511@atlanta.example.com',
  cseq: 1,
  via: 'SIP/2.0/TCP client.atlanta.example.com:5060',
  headers: ['Route: <sip:ss1.atlanta.example.com;lr>'],
});
const proxied = [
  'Record-Route: <sip:ss2.biloxi.example.com;lr>',
  'Record-Route: <sip:ss1.atlanta.example.com;lr;transport=tcp>',
  'Contact: <sip:bob@client.biloxi.example.com;transport=tcp>',
];
const ok = response(invite, 200, { toTag: '314159', headers: proxied });
const via = { via: 'SIP/2.0/TCP client.atlanta.example.com:5060' };

describe('a dialog created by the UAC (RFC 3261 §12.1.2)', () => {
  it('is identified by Call-ID, its own From tag and the To tag of the 2xx', () => {
    const dialog = persisted(createUacDialog(invite, ok));
    expect(dialog.id).toEqual({ callId: '3848276298220188511@atlanta.example.com', localTag: '9fxced76sl', remoteTag: '314159' });
    expect(dialog.state).toBe('confirmed');
    expect(incomingResponseDialogId(ok)).toEqual(dialog.id);
    expect(dialogKey(dialog.id)).toBe('3848276298220188511@atlanta.example.com 9fxced76sl 314159');
  });

  it('visits the record-routing proxies nearest-first: the Record-Route of the 2xx reversed', () => {
    const dialog = persisted(createUacDialog(invite, ok));
    expect(dialog.routeSet).toEqual(['<sip:ss1.atlanta.example.com;lr;transport=tcp>', '<sip:ss2.biloxi.example.com;lr>']);
    expect(dialog.remoteTarget).toBe('sip:bob@client.biloxi.example.com;transport=tcp');
  });

  it('sends a BYE to the remote target through the route set, with the next CSeq and both tags', () => {
    const { dialog, request: bye } = createDialogRequest(persisted(createUacDialog(invite, ok)), 'BYE', via);
    expect(bye.uri).toBe('sip:bob@client.biloxi.example.com;transport=tcp');
    expect(getHeaders(bye, 'Route')).toEqual(['<sip:ss1.atlanta.example.com;lr;transport=tcp>', '<sip:ss2.biloxi.example.com;lr>']);
    expect(getCSeq(bye)).toEqual({ seq: 2, method: 'BYE' });
    expect(getFrom(bye)?.tag).toBe('9fxced76sl');
    expect(getTo(bye)?.tag).toBe('314159');
    expect(getHeader(bye, 'Call-ID')).toBe('3848276298220188511@atlanta.example.com');
    expect(getTopVia(bye)?.branch).toMatch(/^z9hG4bK/);
    expect(persisted(dialog).state).toBe('terminated');
  });

  it('numbers successive requests 2, 3, 4 and ACKs the 2xx of a re-INVITE with that INVITE\'s number', () => {
    let dialog: Dialog = persisted(createUacDialog(invite, ok));
    const first = createDialogAck(dialog, via);
    expect(getCSeq(first)).toEqual({ seq: 1, method: 'ACK' });
    expect(getHeader(first, 'Contact')).toBeUndefined();

    const info = createDialogRequest(dialog, 'INFO', { ...via, body: 'Signal=5\r\n', contentType: 'application/dtmf-relay' });
    dialog = persisted(info.dialog);
    const reInvite = createDialogRequest(dialog, 'INVITE', { ...via, branch: 'z9hG4bKreinvite' });
    dialog = persisted(reInvite.dialog);
    const options = createDialogRequest(dialog, 'OPTIONS', via);
    dialog = persisted(options.dialog);
    expect([info, reInvite, options].map((built) => getCSeq(built.request)?.seq)).toEqual([2, 3, 4]);

    // RFC 3261 §12.2.1.1: a target refresh carries this UA's Contact again.
    expect(getHeader(reInvite.request, 'Contact')).toBe(getHeader(invite, 'Contact'));
    const ack = createDialogAck(dialog, via);
    expect(getCSeq(ack)).toEqual({ seq: 3, method: 'ACK' });
    // The ACK for a 2xx is a transaction of its own: a branch different from the INVITE's.
    expect(getTopVia(ack)?.branch).not.toBe('z9hG4bKreinvite');
    expect(dialog.localSeq).toBe(4);
  });

  it('starts early on a 180 with a To tag and is confirmed by the 2xx, which also sets the route set', () => {
    const ringing = response(invite, 180, { toTag: '314159', headers: ['Contact: <sip:bob@192.0.2.4>'] });
    let dialog = persisted(createUacDialog(invite, ringing));
    expect(dialog.state).toBe('early');
    expect(dialog.routeSet).toEqual([]);
    dialog = persisted(receiveDialogResponse(dialog, ok));
    expect(dialog.state).toBe('confirmed');
    expect(dialog.routeSet).toEqual(['<sip:ss1.atlanta.example.com;lr;transport=tcp>', '<sip:ss2.biloxi.example.com;lr>']);
    expect(dialog.remoteTarget).toBe('sip:bob@client.biloxi.example.com;transport=tcp');
  });

  it('uses the Request-URI as remote target for a 180 without Contact, until a response brings one', () => {
    const ringing = response(invite, 180, { toTag: '314159' });
    const dialog = persisted(createUacDialog(invite, ringing));
    expect(dialog.remoteTarget).toBe('sip:bob@biloxi.example.com');
    const progress = response(invite, 183, { toTag: '314159', headers: ['Contact: <sip:bob@192.0.2.4>'] });
    expect(receiveDialogResponse(dialog, progress).remoteTarget).toBe('sip:bob@192.0.2.4');
  });

  it('ends an early dialog when the INVITE finally fails', () => {
    const dialog = createUacDialog(invite, response(invite, 180, { toTag: '314159' }));
    expect(receiveDialogResponse(dialog, response(invite, 486, { toTag: '314159' })).state).toBe('terminated');
  });

  it('takes the Contact of a 2xx to a re-INVITE as the new remote target, and ignores a failed one', () => {
    const { dialog, request: reInvite } = createDialogRequest(createUacDialog(invite, ok), 'INVITE', via);
    const moved = response(reInvite, 200, { headers: ['Contact: <sip:bob@198.51.100.20;transport=tcp>'] });
    expect(receiveDialogResponse(dialog, moved).remoteTarget).toBe('sip:bob@198.51.100.20;transport=tcp');
    const refused = response(reInvite, 488, { headers: ['Contact: <sip:bob@198.51.100.99>'] });
    expect(receiveDialogResponse(dialog, refused).remoteTarget).toBe('sip:bob@client.biloxi.example.com;transport=tcp');
    expect(receiveDialogResponse(dialog, refused).state).toBe('confirmed');
  });

  it('terminates on a 481 or 408 to an in-dialog request', () => {
    const { dialog, request: update } = createDialogRequest(createUacDialog(invite, ok), 'UPDATE', via);
    expect(receiveDialogResponse(dialog, response(update, 481)).state).toBe('terminated');
    expect(receiveDialogResponse(dialog, response(update, 408)).state).toBe('terminated');
  });

  it('still builds a BYE after the first one, to answer a digest challenge, but nothing else', () => {
    const first = createDialogRequest(createUacDialog(invite, ok), 'BYE', via);
    const retry = createDialogRequest(first.dialog, 'BYE', { ...via, headers: [{ name: 'Authorization', value: 'Digest username="alice"' }] });
    expect(getCSeq(retry.request)?.seq).toBe(3);
    expect(() => createDialogRequest(first.dialog, 'INFO', via)).toThrow(DialogError);
  });

  it('refuses to be created by a 100, or by a 1xx without To tag', () => {
    expect(() => createUacDialog(invite, response(invite, 100))).toThrow(DialogError);
    expect(() => createUacDialog(invite, response(invite, 180))).toThrow(DialogError);
  });

  it('refuses a 2xx without Contact: it leaves no remote target', () => {
    expect(() => createUacDialog(invite, response(invite, 200, { toTag: 'x' }))).toThrow(DialogError);
  });

  it('refuses to build ACK or CANCEL as new requests, and a body without Content-Type', () => {
    const dialog = createUacDialog(invite, ok);
    expect(() => createDialogRequest(dialog, 'ACK', via)).toThrow(DialogError);
    expect(() => createDialogRequest(dialog, 'CANCEL', via)).toThrow(DialogError);
    expect(() => createDialogRequest(dialog, 'MESSAGE', { ...via, body: 'hello' })).toThrow(DialogError);
  });

  it('marks a dialog created with a SIPS Request-URI secure', () => {
    const sips = request({ uri: 'sips:bob@biloxi.example.com' });
    expect(createUacDialog(sips, response(sips, 200, { toTag: 's', headers: ['Contact: <sips:bob@192.0.2.4>'] })).secure).toBe(true);
    expect(createUacDialog(invite, ok).secure).toBe(false);
  });
});
