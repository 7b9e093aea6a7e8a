import { describe, expect, it } from 'vitest';
import { getCSeq, getHeaders, getTo, parseMessage } from '../../../shared/message/index.ts';
import {
  createInviteClientTransaction,
  type InviteClientTransaction,
  type SendAction,
} from '../../../shared/transaction/index.ts';
import { FakeClock } from '../../support/fake-clock.ts';
import { request, response } from '../../support/sip-messages.ts';
import { TransactionDriver } from '../../support/transaction-driver.ts';

function start(options: { reliable: boolean; flow?: string } = { reliable: false }, invite = request()) {
  const clock = new FakeClock(0);
  return { driver: new TransactionDriver<InviteClientTransaction>(createInviteClientTransaction(invite, options, 0), clock), invite };
}

function lastSent(driver: TransactionDriver<InviteClientTransaction>): string {
  const sends = driver.log.filter((entry) => entry.action.type === 'send');
  return (sends[sends.length - 1]!.action as SendAction).wire;
}

describe('INVITE client transaction (RFC 3261 §17.1.1)', () => {
  it('sends the INVITE at once and retransmits it over UDP at intervals doubling from T1, with no cap, until Timer B', () => {
    const { driver } = start();
    driver.runTimers();
    // Timer A: 500, 1000, 2000, 4000, 8000, 16000 ms apart; Timer B at 64*T1 = 32 s.
    expect(driver.sendTimes()).toEqual([0, 500, 1_500, 3_500, 7_500, 15_500, 31_500]);
    expect(driver.log.at(-2)).toEqual({ at: 32_000, action: { type: 'timeout', status: 408 } });
    expect(driver.log.at(-1)).toEqual({ at: 32_000, action: { type: 'terminated' } });
    expect(driver.state).toBe('terminated');
  });

  it('retransmits the very INVITE it first sent, byte for byte', () => {
    const { driver } = start();
    driver.fireNextTimer();
    const [first, second] = driver.log.map((entry) => (entry.action as SendAction).wire);
    expect(second).toBe(first);
    expect(parseMessage(first!).kind).toBe('request');
  });

  it('honours a configured T1 for both Timer A and Timer B', () => {
    const clock = new FakeClock(1_000);
    const driver = new TransactionDriver(
      createInviteClientTransaction(request(), { reliable: false, timing: { t1: 100 } }, clock.now()),
      clock,
    );
    driver.runTimers();
    expect(driver.sendTimes()).toEqual([1_000, 1_100, 1_300, 1_700, 2_500, 4_100, 7_300]);
    expect(driver.log.at(-1)!.at).toBe(1_000 + 6_400);
  });

  it('stops retransmitting once a provisional response arrives and passes every 1xx to the TU', () => {
    const { driver, invite } = start();
    driver.fireNextTimer();
    driver.clock.advance(200);
    const ringing = response(invite, 180, { toTag: 'as83kd9bs' });
    expect(driver.dispatch({ type: 'receive-response', response: ringing })).toEqual([{ type: 'deliver', message: ringing }]);
    expect(driver.state).toBe('proceeding');
    // RFC 3261 §17.1.1.2: in Proceeding there is no Timer A and no Timer B; the call may ring for minutes.
    expect(driver.nextTimer()).toBeUndefined();
    driver.clock.advance(120_000);
    const progress = response(invite, 183, { toTag: 'as83kd9bs' });
    expect(driver.dispatch({ type: 'receive-response', response: progress })).toEqual([{ type: 'deliver', message: progress }]);
    expect(driver.sendTimes()).toEqual([0, 500]);
  });

  it('ACKs a 486 on the same branch, passes it up once, and re-sends the ACK for each retransmission until Timer D', () => {
    const invite = request({ headers: ['Route: <sip:edge.sipedge.example;transport=ws;lr>'] });
    const { driver } = start({ reliable: false }, invite);
    driver.clock.advance(300);
    const busy = response(invite, 486, { toTag: 'busy-tag' });
    const actions = driver.dispatch({ type: 'receive-response', response: busy });
    expect(actions.map((action) => action.type)).toEqual(['send', 'deliver']);
    expect(driver.state).toBe('completed');

    const ack = parseMessage((actions[0] as SendAction).wire);
    if (ack.kind !== 'request') throw new Error('the ACK must be a request');
    expect(ack.method).toBe('ACK');
    expect(ack.uri).toBe(invite.uri);
    expect(getHeaders(ack, 'Via')).toEqual(getHeaders(invite, 'Via').slice(0, 1));
    expect(getTo(ack)?.tag).toBe('busy-tag');
    expect(getCSeq(ack)).toEqual({ seq: 314159, method: 'ACK' });
    expect(getHeaders(ack, 'Route')).toEqual(['<sip:edge.sipedge.example;transport=ws;lr>']);
    expect(ack.body).toHaveLength(0);

    driver.clock.advance(500);
    expect(driver.dispatch({ type: 'receive-response', response: busy })).toEqual([actions[0]]);
    // Timer D: at least 32 s on UDP, counted from the 486.
    expect(driver.nextTimer()).toEqual({ timer: 'D', deadline: 300 + 32_000 });
    driver.runTimers();
    expect(driver.state).toBe('terminated');
    expect(driver.actionTypes().filter((type) => type === 'deliver')).toHaveLength(1);
  });

  it('passes a 2xx up and waits in Accepted, delivering 2xx from other forks, until Timer M', () => {
    const { driver, invite } = start();
    driver.clock.advance(100);
    const okFromBob = response(invite, 200, { toTag: 'bob-desk' });
    expect(driver.dispatch({ type: 'receive-response', response: okFromBob })).toEqual([{ type: 'deliver', message: okFromBob }]);
    expect(driver.state).toBe('accepted');
    const okFromMobile = response(invite, 200, { toTag: 'bob-mobile' });
    driver.clock.advance(1_000);
    expect(driver.dispatch({ type: 'receive-response', response: okFromMobile })).toEqual([{ type: 'deliver', message: okFromMobile }]);
    // The transaction never ACKs a 2xx (the TU does, RFC 3261 §13.2.2.4) and never retransmits again.
    expect(driver.sendTimes()).toEqual([0]);
    expect(driver.nextTimer()).toEqual({ timer: 'M', deadline: 100 + 32_000 });
    driver.runTimers();
    expect(driver.state).toBe('terminated');
  });

  it('over a reliable transport sends once, and leaves Completed as soon as the failure is ACKed', () => {
    const { driver, invite } = start({ reliable: true, flow: 'ws-42' });
    expect(driver.nextTimer()).toEqual({ timer: 'B', deadline: 32_000 });
    const declined = response(invite, 603, { toTag: 'x1' });
    const actions = driver.dispatch({ type: 'receive-response', response: declined });
    expect(actions.map((action) => action.type)).toEqual(['send', 'deliver', 'terminated']);
    expect((actions[0] as SendAction).flow).toBe('ws-42');
    expect(driver.sendTimes()).toEqual([0, 0]);
  });

  it('reports a transport failure as a 503 and terminates', () => {
    const { driver } = start({ reliable: true });
    expect(driver.dispatch({ type: 'transport-error' })).toEqual([
      { type: 'transport-error', status: 503 },
      { type: 'terminated' },
    ]);
  });

  it('ignores a timer that is no longer armed, as a late Durable Object alarm may deliver', () => {
    const { driver, invite } = start();
    driver.dispatch({ type: 'receive-response', response: response(invite, 100) });
    expect(driver.dispatch({ type: 'timer', timer: 'A' })).toEqual([]);
    expect(driver.dispatch({ type: 'timer', timer: 'B' })).toEqual([]);
    expect(driver.state).toBe('proceeding');
  });

  it('can be resumed from its JSON form in the middle of retransmitting', () => {
    const { driver } = start({ reliable: false, flow: 'udp:10.0.0.5:5060' });
    driver.runTimers(3_500);
    const stored = JSON.stringify(driver.transaction);
    const resumed = new TransactionDriver<InviteClientTransaction>(
      { transaction: JSON.parse(stored) as InviteClientTransaction, actions: [] },
      new FakeClock(driver.clock.now()),
    );
    resumed.runTimers(20_000);
    expect(resumed.sendTimes()).toEqual([7_500, 15_500]);
    expect(resumed.log.every((entry) => entry.action.type !== 'send' || entry.action.flow === 'udp:10.0.0.5:5060')).toBe(true);
    expect(lastSent(resumed)).toBe(lastSent(driver));
  });

  it('refuses to carry anything but an INVITE', () => {
    expect(() => createInviteClientTransaction(request({ method: 'BYE' }), { reliable: false }, 0)).toThrow(RangeError);
  });
});
