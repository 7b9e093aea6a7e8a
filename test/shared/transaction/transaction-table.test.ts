import { describe, expect, it } from 'vitest';
import { getCSeq, parseMessage } from '../../../shared/message/index.ts';
import {
  cancelledTransactionKey,
  emptyTransactionTable,
  fireDueTimers,
  getTransaction,
  nextTimerDeadline,
  receiveRequest,
  receiveResponse,
  reportTransportError,
  sendRequest,
  sendResponse,
  type TableAction,
  type TransactionTable,
} from '../../../shared/transaction/index.ts';
import { FakeClock } from '../../support/fake-clock.ts';
import { persisted } from '../../support/persisted.ts';
import { request, response } from '../../support/sip-messages.ts';

/** A host around the table: stores it as JSON after each step and runs its one alarm on a fake clock. */
class Host {
  readonly clock = new FakeClock(0);
  readonly actions: (TableAction & { readonly at: number })[] = [];
  table: TransactionTable = emptyTransactionTable;

  apply(step: (table: TransactionTable, now: number) => { table: TransactionTable; actions: readonly TableAction[] }): readonly TableAction[] {
    const result = step(this.table, this.clock.now());
    this.table = persisted(result.table);
    for (const action of result.actions) this.actions.push({ ...action, at: this.clock.now() });
    return result.actions;
  }

  /** The alarm: wake at the next deadline and fire what is due. */
  wake(): boolean {
    const deadline = nextTimerDeadline(this.table);
    if (deadline === undefined) return false;
    this.clock.advanceTo(deadline);
    this.apply(fireDueTimers);
    return true;
  }

  runAlarms(until = Number.POSITIVE_INFINITY): void {
    while ((nextTimerDeadline(this.table) ?? Number.POSITIVE_INFINITY) <= until && this.wake()) {
      // each wake fires the due timers
    }
  }

  sendTimes(key: string): number[] {
    return this.actions.filter((action) => action.type === 'send' && 'key' in action && action.key === key).map((action) => action.at);
  }
}

describe('a transaction table behind one alarm', () => {
  it('multiplexes the timers of an INVITE and a REGISTER onto a single next deadline', () => {
    const host = new Host();
    const invite = request({ branch: 'z9hG4bKinv1' });
    const register = request({ method: 'REGISTER', branch: 'z9hG4bKreg1', uri: 'sip:pbx.example.com' });
    host.apply((table, now) => sendRequest(table, invite, { reliable: false }, now));
    host.clock.advance(100);
    host.apply((table, now) => sendRequest(table, register, { reliable: false }, now));
    expect(nextTimerDeadline(host.table)).toBe(500);
    host.runAlarms(4_000);
    expect(host.sendTimes('z9hG4bKinv1 INVITE')).toEqual([0, 500, 1_500, 3_500]);
    expect(host.sendTimes('z9hG4bKreg1 REGISTER')).toEqual([100, 600, 1_600, 3_600]);
  });

  it('routes a response to its client transaction and a stray 2xx, after the transaction is gone, to the core', () => {
    const host = new Host();
    const invite = request({ branch: 'z9hG4bKinv2' });
    host.apply((table, now) => sendRequest(table, invite, { reliable: true }, now));
    const ok = response(invite, 200, { toTag: 'bob' });
    expect(host.apply((table, now) => receiveResponse(table, ok, now))).toEqual([
      { type: 'deliver', message: ok, key: 'z9hG4bKinv2 INVITE' },
    ]);
    host.runAlarms(); // Timer M
    expect(getTransaction(host.table, 'z9hG4bKinv2 INVITE')).toBeUndefined();
    expect(host.apply((table, now) => receiveResponse(table, ok, now))).toEqual([{ type: 'stray', message: ok }]);
  });

  it('times out a request nobody answers with 408 and forgets it', () => {
    const host = new Host();
    host.apply((table, now) => sendRequest(table, request({ method: 'OPTIONS', branch: 'z9hG4bKopt' }), { reliable: false }, now));
    host.runAlarms();
    expect(host.actions.slice(-2).map((action) => action.type)).toEqual(['timeout', 'terminated']);
    expect(host.actions.at(-2)).toMatchObject({ key: 'z9hG4bKopt OPTIONS', status: 408, at: 32_000 });
    expect(host.table).toEqual(emptyTransactionTable);
  });

  it('fires each missed timer once, in order, when the alarm rings late: one retransmission, then the timeout', () => {
    const host = new Host();
    host.apply((table, now) => sendRequest(table, request({ method: 'MESSAGE', branch: 'z9hG4bKmsg' }), { reliable: false }, now));
    host.clock.advance(40_000);
    host.apply(fireDueTimers);
    expect(host.actions.map((action) => [action.type, action.at])).toEqual([
      ['send', 0],
      ['send', 40_000],
      ['timeout', 40_000],
      ['terminated', 40_000],
    ]);
    expect(nextTimerDeadline(host.table)).toBeUndefined();
  });

  it('after a late alarm keeps retransmitting on schedule, counted from the wake-up', () => {
    const host = new Host();
    host.apply((table, now) => sendRequest(table, request({ method: 'MESSAGE', branch: 'z9hG4bKlate' }), { reliable: false }, now));
    host.clock.advance(2_000);
    host.apply(fireDueTimers);
    host.runAlarms(8_000);
    expect(host.sendTimes('z9hG4bKlate MESSAGE')).toEqual([0, 2_000, 3_000, 5_000]);
  });

  it('creates a server transaction for a new request, delivers it, and answers its retransmission itself', () => {
    const host = new Host();
    const invite = request({ via: 'SIP/2.0/UDP 192.0.2.4:5060', branch: 'z9hG4bKsrv' });
    const delivered = host.apply((table, now) => receiveRequest(table, invite, { reliable: false, tryingDelay: 0 }, now));
    expect(delivered.map((action) => action.type)).toEqual(['send', 'deliver']);
    const key = delivered[1]!.type === 'deliver' && 'key' in delivered[1]! ? delivered[1].key : '';
    host.clock.advance(500);
    const again = host.apply((table, now) => receiveRequest(table, invite, { reliable: false }, now));
    expect(again.map((action) => action.type)).toEqual(['send']);

    host.apply((table, now) => sendResponse(table, key, response(invite, 486, { toTag: 'e' }), now));
    const ack = request({ method: 'ACK', via: 'SIP/2.0/UDP 192.0.2.4:5060', branch: 'z9hG4bKsrv', to: '<sip:bob@pbx.example.com>;tag=e' });
    expect(host.apply((table, now) => receiveRequest(table, ack, { reliable: false }, now))).toEqual([]);
    expect(getTransaction(host.table, key)?.state).toBe('confirmed');
    host.runAlarms();
    expect(host.table).toEqual(emptyTransactionTable);
  });

  it('serves a CANCEL with a transaction of its own, which names the INVITE the TU then ends with 487', () => {
    const host = new Host();
    const via = { via: 'SIP/2.0/WSS df7jal23ls0d.invalid', branch: 'z9hG4bKringing' };
    const invite = request(via);
    const [inviteDelivery] = host
      .apply((table, now) => receiveRequest(table, invite, { reliable: true, tryingDelay: null }, now))
      .filter((action) => action.type === 'deliver');
    const inviteKey = inviteDelivery && 'key' in inviteDelivery ? inviteDelivery.key : '';
    host.apply((table, now) => sendResponse(table, inviteKey, response(invite, 180, { toTag: 'e' }), now));

    const cancel = request({ ...via, method: 'CANCEL' });
    const [cancelDelivery] = host.apply((table, now) => receiveRequest(table, cancel, { reliable: true }, now));
    expect(cancelDelivery).toMatchObject({ type: 'deliver', message: cancel });
    const cancelKey = cancelDelivery && 'key' in cancelDelivery ? cancelDelivery.key : '';
    expect(cancelKey).not.toBe(inviteKey);
    expect(cancelledTransactionKey(cancel)).toBe(inviteKey);

    // RFC 3261 §9.2: 200 to the CANCEL, 487 to the INVITE.
    host.apply((table, now) => sendResponse(table, cancelKey, response(cancel, 200, { toTag: 'e' }), now));
    host.apply((table, now) => sendResponse(table, inviteKey, response(invite, 487, { toTag: 'e' }), now));
    expect(getTransaction(host.table, cancelKey)).toBeUndefined();
    expect(getTransaction(host.table, inviteKey)?.state).toBe('completed');
  });

  it('passes an ACK for a 2xx, which has a branch of its own, to the core', () => {
    const host = new Host();
    const ack = request({ method: 'ACK', branch: 'z9hG4bKack2xx', to: '<sip:bob@pbx.example.com>;tag=e' });
    expect(host.apply((table, now) => receiveRequest(table, ack, { reliable: true }, now))).toEqual([{ type: 'stray', message: ack }]);
    expect(host.table).toEqual(emptyTransactionTable);
  });

  it('reports a transport failure of one transaction without touching the others', () => {
    const host = new Host();
    host.apply((table, now) => sendRequest(table, request({ method: 'BYE', branch: 'z9hG4bKb1' }), { reliable: true }, now));
    host.apply((table, now) => sendRequest(table, request({ method: 'BYE', branch: 'z9hG4bKb2' }), { reliable: true }, now));
    expect(host.apply((table, now) => reportTransportError(table, 'z9hG4bKb1 BYE', now))).toEqual([
      { type: 'transport-error', status: 503, key: 'z9hG4bKb1 BYE' },
      { type: 'terminated', key: 'z9hG4bKb1 BYE' },
    ]);
    expect(Object.keys(host.table.transactions)).toEqual(['z9hG4bKb2 BYE']);
    expect(host.table.timers.map((timer) => timer.key)).toEqual(['F z9hG4bKb2 BYE']);
  });

  it('sends nothing for a response to a transaction that is already gone', () => {
    const host = new Host();
    const invite = request();
    expect(host.apply((table, now) => sendResponse(table, 'z9hG4bKgone x INVITE', response(invite, 200), now))).toEqual([]);
  });

  it('refuses to send two requests with the same branch, and refuses to send an ACK', () => {
    const host = new Host();
    const bye = request({ method: 'BYE', branch: 'z9hG4bKdup' });
    host.apply((table, now) => sendRequest(table, bye, { reliable: true }, now));
    expect(() => sendRequest(host.table, bye, { reliable: true }, 0)).toThrow(RangeError);
    expect(() => sendRequest(host.table, request({ method: 'ACK' }), { reliable: true }, 0)).toThrow(RangeError);
  });

  it('re-sends the very same ACK, over the same flow, when a 404 is retransmitted', () => {
    const host = new Host();
    const invite = request({ branch: 'z9hG4bKbytes', via: 'SIP/2.0/UDP 192.0.2.1:5060' });
    host.apply((table, now) => sendRequest(table, invite, { reliable: false, flow: 'udp-gw' }, now));
    host.clock.advance(100);
    const notFound = response(invite, 404, { toTag: 'nf' });
    host.apply((table, now) => receiveResponse(table, notFound, now));
    host.clock.advance(400);
    host.apply((table, now) => receiveResponse(table, notFound, now));
    const sends = host.actions.flatMap((action) => (action.type === 'send' ? [action] : []));
    expect(sends.map((action) => action.flow)).toEqual(['udp-gw', 'udp-gw', 'udp-gw']);
    expect(sends[2]!.wire).toBe(sends[1]!.wire);
    expect(getCSeq(parseMessage(sends[1]!.wire))).toEqual({ seq: 314159, method: 'ACK' });
    expect(host.actions.filter((action) => action.type === 'deliver')).toHaveLength(1);
  });
});
