import { describe, expect, it } from 'vitest';
import { createResponse, getCSeq, getHeaders, getTo } from '../../../shared/message/index.ts';
import {
  createDialogRequest,
  createUasDialog,
  DialogError,
  incomingRequestDialogId,
  receiveDialogRequest,
  sendDialogResponse,
  type Dialog,
} from '../../../shared/dialog/index.ts';
import { persisted } from '../../support/persisted.ts';
import { request } from '../../support/sip-messages.ts';

// Bob's side of RFC 3261 §24.2: the INVITE arrives after two record-routing proxies.
const invite = request({
  uri: 'sip:bob@client.biloxi.example.com',
  to: 'Bob <sip:bob@biloxi.example.com>',
  from: 'Alice <sip:alice@atlanta.example.com>;tag=9fxced76sl',
  callId: '3848276298220188511@atlanta.example.com',
  cseq: 1,
  via: 'SIP/2.0/TCP ss2.biloxi.example.com:5060;branch=z9hG4bK721e4.1, SIP/2.0/TCP ss1.atlanta.example.com:5060;branch=z9hG4bK2d4790.1',
  headers: [
    'Record-Route: <sip:ss2.biloxi.example.com;lr>, <sip:ss1.atlanta.example.com;lr>',
  ],
});
const answer = (status: number) =>
  createResponse(invite, status, undefined, {
    toTag: '314159',
    headers: [{ name: 'Contact', value: '<sip:bob@client.biloxi.example.com;transport=tcp>' }],
  });

function inDialog(method: string, cseq: number, headers: string[] = []) {
  return request({
    method,
    uri: 'sip:bob@client.biloxi.example.com;transport=tcp',
    to: 'Bob <sip:bob@biloxi.example.com>;tag=314159',
    from: 'Alice <sip:alice@atlanta.example.com>;tag=9fxced76sl',
    callId: '3848276298220188511@atlanta.example.com',
    cseq,
    headers,
  });
}

const via = { via: 'SIP/2.0/TCP client.biloxi.example.com:5060' };

describe('a dialog created by the UAS (RFC 3261 §12.1.1)', () => {
  it('takes its local tag from its own response and its remote tag from the request', () => {
    const dialog = persisted(createUasDialog(invite, answer(200)));
    expect(dialog.id).toEqual({ callId: '3848276298220188511@atlanta.example.com', localTag: '314159', remoteTag: '9fxced76sl' });
    expect(incomingRequestDialogId(inDialog('BYE', 2))).toEqual(dialog.id);
    expect(dialog.remoteSeq).toBe(1);
    expect(dialog.localSeq).toBeUndefined();
  });

  it('keeps the Record-Route in order: the proxy nearest to the UAS first', () => {
    const dialog = persisted(createUasDialog(invite, answer(200)));
    expect(dialog.routeSet).toEqual(['<sip:ss2.biloxi.example.com;lr>', '<sip:ss1.atlanta.example.com;lr>']);
    const { request: bye } = createDialogRequest(dialog, 'BYE', { ...via, initialSeq: 8_000 });
    expect(bye.uri).toBe('sip:k3l1@df7jal23ls0d.invalid;transport=ws;ob');
    expect(getHeaders(bye, 'Route')).toEqual(['<sip:ss2.biloxi.example.com;lr>', '<sip:ss1.atlanta.example.com;lr>']);
    expect(getCSeq(bye)).toEqual({ seq: 8_000, method: 'BYE' });
    expect(getTo(bye)?.tag).toBe('9fxced76sl');
  });

  it('picks a random first CSeq below 2**31 when it has sent nothing yet', () => {
    const dialog = createUasDialog(invite, answer(200));
    const seqs = Array.from({ length: 20 }, () => getCSeq(createDialogRequest(dialog, 'INFO', via).request)!.seq);
    expect(seqs.every((seq) => seq > 0 && seq < 2 ** 31)).toBe(true);
    expect(new Set(seqs).size).toBeGreaterThan(1);
  });

  it('accepts in-order requests and refuses one with a lower CSeq with 500 (RFC 3261 §12.2.2)', () => {
    let dialog: Dialog = persisted(createUasDialog(invite, answer(200)));
    const info = receiveDialogRequest(dialog, inDialog('INFO', 5));
    expect(info.accepted).toBe(true);
    dialog = persisted(info.dialog);
    expect(dialog.remoteSeq).toBe(5);

    const late = receiveDialogRequest(dialog, inDialog('UPDATE', 4));
    expect(late).toMatchObject({ accepted: false, status: 500 });
    expect(late.dialog).toEqual(dialog);

    // CSeq numbers need not be consecutive, only increasing.
    expect(receiveDialogRequest(dialog, inDialog('OPTIONS', 900)).dialog.remoteSeq).toBe(900);
  });

  it('does not hold the ACK for the 2xx, which repeats the INVITE number, against the order', () => {
    let dialog: Dialog = createUasDialog(invite, answer(200));
    dialog = receiveDialogRequest(dialog, inDialog('INFO', 2)).dialog;
    expect(receiveDialogRequest(dialog, inDialog('ACK', 1))).toMatchObject({ accepted: true });
  });

  it('replaces the remote target on a re-INVITE with a new Contact', () => {
    const dialog = createUasDialog(invite, answer(200));
    const moved = receiveDialogRequest(dialog, inDialog('INVITE', 2, ['Contact: <sip:alice@203.0.113.9:5061;transport=tls>']));
    expect(moved.dialog.remoteTarget).toBe('sip:alice@203.0.113.9:5061;transport=tls');
    const info = receiveDialogRequest(moved.dialog, inDialog('INFO', 3, ['Contact: <sip:elsewhere@203.0.113.10>']));
    expect(info.dialog.remoteTarget).toBe('sip:alice@203.0.113.9:5061;transport=tls');
  });

  it('terminates on BYE, and answers anything after it with 481', () => {
    const dialog = createUasDialog(invite, answer(200));
    const bye = receiveDialogRequest(dialog, inDialog('BYE', 2));
    expect(bye).toMatchObject({ accepted: true });
    expect(bye.dialog.state).toBe('terminated');
    expect(receiveDialogRequest(bye.dialog, inDialog('INFO', 3))).toMatchObject({ accepted: false, status: 481 });
  });

  it('is early after a 180 and confirmed by the 200 it then sends, or ended by a failure', () => {
    const early = persisted(createUasDialog(invite, answer(180)));
    expect(early.state).toBe('early');
    expect(sendDialogResponse(early, answer(200)).state).toBe('confirmed');
    expect(sendDialogResponse(early, answer(486)).state).toBe('terminated');
  });

  it('refuses a dialog-creating request without Contact', () => {
    const bare = request({ headers: [] , method: 'SUBSCRIBE', to: '<sip:bob@biloxi.example.com>' });
    expect(() => createUasDialog(bare, createResponse(bare, 200, undefined, { toTag: 'n' }))).toThrow(DialogError);
  });
});
