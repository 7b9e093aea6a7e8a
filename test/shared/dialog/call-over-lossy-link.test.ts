import { describe, expect, it } from 'vitest';
import { createResponse, getCSeq, parseMessage, serializeMessage, type SipMessage, type SipRequest, type SipResponse } from '../../../shared/message/index.ts';
import {
  createDialogAck,
  createDialogRequest,
  createUacDialog,
  createUasDialog,
  receiveDialogRequest,
  receiveDialogResponse,
  sendDialogResponse,
  startSuccessRetransmission,
  successRetransmissionTransition,
  type Dialog,
  type SuccessRetransmission,
} from '../../../shared/dialog/index.ts';
import {
  emptyTransactionTable,
  fireDueTimers,
  generateBranch,
  nextTimerDeadline,
  receiveRequest,
  receiveResponse,
  sendRequest,
  sendResponse,
  type TableAction,
  type TableResult,
  type TransactionTable,
} from '../../../shared/transaction/index.ts';
import { FakeClock } from '../../support/fake-clock.ts';
import { LinkedDatagrams, type Side } from '../../support/linked-datagrams.ts';
import { persisted } from '../../support/persisted.ts';
import { request } from '../../support/sip-messages.ts';

/**
 * The edge calls a PBX over UDP (through the media node's gateway). Both ends run the shared stack:
 * a transaction table and a dialog each, persisted as JSON after every step, driven by one clock.
 */
class Call {
  readonly clock = new FakeClock(0);
  readonly link = new LinkedDatagrams(10);
  readonly events: string[] = [];
  tables: Record<Side, TransactionTable> = { a: emptyTransactionTable, b: emptyTransactionTable };
  dialogs: Partial<Record<Side, Dialog>> = {};
  invite: SipRequest;
  retransmission: SuccessRetransmission | undefined;
  answerAt: number | undefined;
  answerKey = '';
  invitesSeenByCallee = 0;

  constructor() {
    this.invite = request({
      uri: 'sip:2001@pbx.example.com',
      via: 'SIP/2.0/UDP 192.0.2.10:5060',
      branch: generateBranch(),
      to: '<sip:2001@pbx.example.com>',
      from: '"Alice" <sip:alice@sipedge.example>;tag=edge-a1',
      headers: ['Contact: <sip:alice@192.0.2.10:5060>'],
    });
  }

  log(event: string): void {
    this.events.push(`${this.clock.now()} ${event}`);
  }

  apply(side: Side, result: TableResult): void {
    this.tables[side] = persisted(result.table);
    for (const action of result.actions) this.#act(side, action);
  }

  start(): void {
    this.apply('a', sendRequest(this.tables.a, this.invite, { reliable: false }, this.clock.now()));
  }

  hangUp(): void {
    const built = createDialogRequest(this.dialogs.a!, 'BYE', { via: 'SIP/2.0/UDP 192.0.2.10:5060' });
    this.dialogs.a = persisted(built.dialog);
    this.apply('a', sendRequest(this.tables.a, built.request, { reliable: false }, this.clock.now()));
  }

  /** Runs the world until nothing more is scheduled by `until`, and leaves the clock there. */
  run(until: number): void {
    for (;;) {
      const next = [
        this.link.nextArrival(),
        nextTimerDeadline(this.tables.a),
        nextTimerDeadline(this.tables.b),
        this.retransmission?.deadline,
        this.answerAt,
      ].reduce<number | undefined>((min, t) => (t === undefined ? min : min === undefined ? t : Math.min(min, t)), undefined);
      if (next === undefined || next > until) {
        this.clock.advanceTo(Math.max(this.clock.now(), until));
        return;
      }
      this.clock.advanceTo(next);
      const now = this.clock.now();
      for (const delivery of this.link.arrived(now)) this.#receive(delivery.to, parseMessage(delivery.wire));
      this.apply('a', fireDueTimers(this.tables.a, now));
      this.apply('b', fireDueTimers(this.tables.b, now));
      if (this.answerAt !== undefined && this.answerAt <= now) this.#answer();
      if (this.retransmission?.deadline !== undefined && this.retransmission.deadline <= now) {
        const { state, actions } = successRetransmissionTransition(this.retransmission, { type: 'timer' }, now);
        this.retransmission = persisted(state);
        for (const action of actions) if (action.type === 'send') this.#send('a', action.wire, '200 again');
      }
    }
  }

  #receive(side: Side, message: SipMessage): void {
    const now = this.clock.now();
    if (message.kind === 'request') this.apply(side, receiveRequest(this.tables[side], message, { reliable: false, tryingDelay: 0 }, now));
    else this.apply(side, receiveResponse(this.tables[side], message, now));
  }

  #send(to: Side, wire: string, what: string): void {
    this.log(`${to === 'b' ? '->' : '<-'} ${what}`);
    this.link.send(to, wire, this.clock.now());
  }

  #act(side: Side, action: TableAction): void {
    const other: Side = side === 'a' ? 'b' : 'a';
    if (action.type === 'send') {
      const message = parseMessage(action.wire);
      this.#send(other, action.wire, message.kind === 'request' ? message.method : String(message.status));
    } else if (action.type === 'deliver' || action.type === 'stray') {
      if (side === 'a' && action.message.kind === 'response') this.#caller(action.message);
      if (side === 'b' && action.message.kind === 'request') this.#callee(action.message, 'key' in action ? action.key : '');
    } else if (action.type !== 'terminated') {
      this.log(`${side} ${action.type}`);
    }
  }

  /** The edge's TU: builds its dialog from the 2xx and ACKs every 2xx it is given (RFC 3261 §13.2.2.4). */
  #caller(response: SipResponse): void {
    if (getCSeq(response)?.method === 'BYE') {
      this.log(`a call ended (${response.status})`);
      return;
    }
    if (response.status < 200 || response.status >= 300) return;
    if (this.dialogs.a === undefined) {
      this.dialogs.a = persisted(createUacDialog(this.invite, response));
      this.log('a call established');
    } else {
      this.dialogs.a = persisted(receiveDialogResponse(this.dialogs.a, response));
    }
    this.#send('b', serializeMessage(createDialogAck(this.dialogs.a, { via: 'SIP/2.0/UDP 192.0.2.10:5060' })), 'ACK');
  }

  /** The PBX's TU: rings, answers 1.5 s later, and retransmits its 2xx until the ACK. */
  #callee(req: SipRequest, key: string): void {
    const now = this.clock.now();
    if (req.method === 'INVITE') {
      this.invitesSeenByCallee += 1;
      this.answerKey = key;
      const ringing = this.#response(req, 180);
      this.dialogs.b = persisted(createUasDialog(req, ringing));
      this.apply('b', sendResponse(this.tables.b, key, ringing, now));
      this.answerAt = now + 1_500;
    } else if (req.method === 'ACK') {
      this.dialogs.b = persisted(receiveDialogRequest(this.dialogs.b!, req).dialog);
      if (this.retransmission !== undefined) {
        this.retransmission = persisted(successRetransmissionTransition(this.retransmission, { type: 'ack' }, now).state);
      }
      this.log('b ACK received');
    } else if (req.method === 'BYE') {
      const result = receiveDialogRequest(this.dialogs.b!, req);
      this.dialogs.b = persisted(result.dialog);
      this.apply('b', sendResponse(this.tables.b, key, createResponse(req, 200), now));
    }
  }

  #answer(): void {
    this.answerAt = undefined;
    const ok = this.#response(this.invite, 200);
    this.dialogs.b = persisted(sendDialogResponse(this.dialogs.b!, ok));
    this.apply('b', sendResponse(this.tables.b, this.answerKey, ok, this.clock.now()));
    this.retransmission = persisted(startSuccessRetransmission(ok, {}, this.clock.now()));
  }

  #response(req: SipRequest, status: number): SipResponse {
    return createResponse(req, status, undefined, {
      toTag: 'pbx-b7',
      headers: [{ name: 'Contact', value: '<sip:2001@198.51.100.2:5060>' }],
    });
  }
}

describe('a call over a lossy UDP link, end to end through transactions and dialogs', () => {
  it('is set up despite a lost INVITE and a lost 200, with one call at the callee and the 2xx retransmissions stopped by the ACK', () => {
    const call = new Call();
    call.link.loseNext((wire) => wire.startsWith('INVITE '));
    call.link.loseNext((wire) => wire.startsWith('SIP/2.0 200'));
    call.start();
    call.run(10_000);

    expect(call.events).toEqual([
      '0 -> INVITE', // lost
      '500 -> INVITE', // Timer A
      '510 <- 100',
      '510 <- 180',
      '2010 <- 200', // lost
      '2510 <- 200 again', // RFC 3261 §13.3.1.4: the UAS core retransmits its 2xx
      '2520 a call established',
      '2520 -> ACK',
      '2530 b ACK received',
    ]);
    expect(call.invitesSeenByCallee).toBe(1);
    expect(call.retransmission?.status).toBe('acknowledged');
    expect(call.dialogs.a?.state).toBe('confirmed');
    expect(call.dialogs.b?.state).toBe('confirmed');
    expect(call.dialogs.a?.id).toEqual({ callId: call.dialogs.b?.id.callId, localTag: 'edge-a1', remoteTag: 'pbx-b7' });
  });

  it('is torn down by a BYE that ends both dialogs, after which both transaction tables drain', () => {
    const call = new Call();
    call.start();
    call.run(5_000);
    call.hangUp();
    call.run(120_000);
    expect(call.events.slice(-3)).toEqual(['5000 -> BYE', '5010 <- 200', '5020 a call ended (200)']);
    expect(call.dialogs.a?.state).toBe('terminated');
    expect(call.dialogs.b?.state).toBe('terminated');
    expect(call.tables.a).toEqual(emptyTransactionTable);
    expect(call.tables.b).toEqual(emptyTransactionTable);
  });
});
