import { describe, expect, it } from 'vitest';
import { parseMessage } from '../../../shared/message/index.ts';
import {
  createNonInviteServerTransaction,
  type NonInviteServerTransaction,
  type SendAction,
} from '../../../shared/transaction/index.ts';
import { FakeClock } from '../../support/fake-clock.ts';
import { request, response } from '../../support/sip-messages.ts';
import { TransactionDriver } from '../../support/transaction-driver.ts';

const register = request({
  method: 'REGISTER',
  uri: 'sip:sipedge.example',
  via: 'SIP/2.0/UDP 198.51.100.7:5060',
  to: '<sip:alice@sipedge.example>',
  headers: ['Contact: <sip:alice@198.51.100.7:5060>', 'Expires: 600'],
});

function start(reliable: boolean) {
  return new TransactionDriver<NonInviteServerTransaction>(
    createNonInviteServerTransaction(register, { reliable }, 0),
    new FakeClock(0),
  );
}

function statusOf(action: unknown): number {
  const message = parseMessage((action as SendAction).wire);
  if (message.kind !== 'response') throw new Error('expected a response on the wire');
  return message.status;
}

describe('non-INVITE server transaction (RFC 3261 §17.2.2)', () => {
  it('passes the request to the TU once and discards retransmissions until the TU answers', () => {
    const driver = start(false);
    expect(driver.log).toEqual([{ at: 0, action: { type: 'deliver', message: register } }]);
    driver.clock.advance(500);
    expect(driver.dispatch({ type: 'receive-request', request: register })).toEqual([]);
    expect(driver.state).toBe('trying');
  });

  it('re-sends the latest provisional response to each retransmission in Proceeding', () => {
    const driver = start(false);
    driver.dispatch({ type: 'send-response', response: response(register, 100) });
    driver.clock.advance(500);
    const actions = driver.dispatch({ type: 'receive-request', request: register });
    expect(statusOf(actions[0])).toBe(100);
  });

  it('re-sends the final response to each retransmission for 64*T1 (Timer J), then forgets the request', () => {
    const driver = start(false);
    driver.clock.advance(20);
    driver.dispatch({ type: 'send-response', response: response(register, 200, { toTag: 'reg-1' }) });
    expect(driver.state).toBe('completed');
    driver.clock.advance(4_000);
    expect(statusOf(driver.dispatch({ type: 'receive-request', request: register })[0])).toBe(200);
    // A second final response from the TU is discarded.
    expect(driver.dispatch({ type: 'send-response', response: response(register, 500) })).toEqual([]);
    expect(driver.nextTimer()).toEqual({ timer: 'J', deadline: 20 + 32_000 });
    driver.runTimers();
    expect(driver.state).toBe('terminated');
    // The server itself never retransmits: only retransmitted requests make it send.
    expect(driver.sendTimes()).toEqual([20, 4_020]);
  });

  it('over a reliable transport terminates as soon as the final response is sent', () => {
    const driver = start(true);
    const actions = driver.dispatch({ type: 'send-response', response: response(register, 200, { toTag: 'reg-1' }) });
    expect(actions.map((action) => action.type)).toEqual(['send', 'terminated']);
  });

  it('reports a failure to send a response as 503 and terminates', () => {
    const driver = start(false);
    driver.dispatch({ type: 'send-response', response: response(register, 200, { toTag: 'reg-1' }) });
    expect(driver.dispatch({ type: 'transport-error' })).toEqual([
      { type: 'transport-error', status: 503 },
      { type: 'terminated' },
    ]);
  });
});
