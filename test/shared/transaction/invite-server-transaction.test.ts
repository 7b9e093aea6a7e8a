import { describe, expect, it } from 'vitest';
import { parseMessage } from '../../../shared/message/index.ts';
import {
  createInviteServerTransaction,
  type InviteServerOptions,
  type InviteServerTransaction,
  type SendAction,
} from '../../../shared/transaction/index.ts';
import { FakeClock } from '../../support/fake-clock.ts';
import { request, response } from '../../support/sip-messages.ts';
import { TransactionDriver } from '../../support/transaction-driver.ts';

const invite = request({ via: 'SIP/2.0/UDP 192.0.2.4:5060;rport' });
const ack = request({ method: 'ACK', via: 'SIP/2.0/UDP 192.0.2.4:5060;rport', to: '<sip:bob@pbx.example.com>;tag=edge-1' });

function start(options: InviteServerOptions = { reliable: false }) {
  return new TransactionDriver<InviteServerTransaction>(createInviteServerTransaction(invite, options, 0), new FakeClock(0));
}

function statusOf(action: unknown): number {
  const message = parseMessage((action as SendAction).wire);
  if (message.kind !== 'response') throw new Error('expected a response on the wire');
  return message.status;
}

describe('INVITE server transaction (RFC 3261 §17.2.1, RFC 6026)', () => {
  it('passes the INVITE to the TU and answers 100 Trying itself when the TU is silent for 200 ms', () => {
    const driver = start();
    expect(driver.log).toEqual([{ at: 0, action: { type: 'deliver', message: invite } }]);
    driver.runTimers();
    expect(driver.sendTimes()).toEqual([200]);
    expect(statusOf(driver.log[1]!.action)).toBe(100);
  });

  it('sends no 100 of its own when the TU answers within 200 ms', () => {
    const driver = start();
    driver.clock.advance(150);
    driver.dispatch({ type: 'send-response', response: response(invite, 180, { toTag: 'edge-1' }) });
    driver.runTimers(10_000);
    expect(driver.sendTimes()).toEqual([150]);
  });

  it('can send 100 Trying at once, as a B2BUA forwarding the call should', () => {
    const driver = start({ reliable: true, tryingDelay: 0 });
    expect(driver.actionTypes()).toEqual(['send', 'deliver']);
    expect(statusOf(driver.log[0]!.action)).toBe(100);
  });

  it('answers a retransmitted INVITE with the latest provisional response, and does not pass it to the TU', () => {
    const driver = start();
    driver.clock.advance(50);
    const ringing = response(invite, 180, { toTag: 'edge-1' });
    driver.dispatch({ type: 'send-response', response: ringing });
    driver.clock.advance(450);
    const actions = driver.dispatch({ type: 'receive-request', request: invite });
    expect(actions).toHaveLength(1);
    expect(statusOf(actions[0])).toBe(180);
  });

  it('sends the pending 100 at once when the INVITE is retransmitted before the TU answers', () => {
    const driver = start({ reliable: false, tryingDelay: 5_000 });
    driver.clock.advance(500);
    const actions = driver.dispatch({ type: 'receive-request', request: invite });
    expect(statusOf(actions[0])).toBe(100);
    expect(driver.nextTimer()).toBeUndefined();
  });

  it('retransmits a failure response over UDP at intervals doubling from T1 up to T2 until Timer H reports a failure', () => {
    const driver = start({ reliable: false, tryingDelay: null });
    driver.dispatch({ type: 'send-response', response: response(invite, 486, { toTag: 'edge-1' }) });
    expect(driver.state).toBe('completed');
    driver.runTimers();
    expect(driver.sendTimes()).toEqual([0, 500, 1_500, 3_500, 7_500, 11_500, 15_500, 19_500, 23_500, 27_500, 31_500]);
    expect(driver.log.slice(-2)).toEqual([
      { at: 32_000, action: { type: 'timeout', status: 408 } },
      { at: 32_000, action: { type: 'terminated' } },
    ]);
  });

  it('absorbs the ACK for the failure: retransmission stops, the TU never sees it, Timer I ends the transaction', () => {
    const driver = start({ reliable: false, tryingDelay: null });
    driver.dispatch({ type: 'send-response', response: response(invite, 486, { toTag: 'edge-1' }) });
    driver.fireNextTimer(); // Timer G at 500
    driver.clock.advance(200);
    expect(driver.dispatch({ type: 'receive-request', request: ack })).toEqual([]);
    expect(driver.state).toBe('confirmed');
    expect(driver.nextTimer()).toEqual({ timer: 'I', deadline: 700 + 5_000 });
    // Confirmed absorbs further ACKs and INVITEs without answering.
    expect(driver.dispatch({ type: 'receive-request', request: ack })).toEqual([]);
    expect(driver.dispatch({ type: 'receive-request', request: invite })).toEqual([]);
    driver.runTimers();
    expect(driver.state).toBe('terminated');
    expect(driver.sendTimes()).toEqual([0, 500]);
    expect(driver.actionTypes().filter((type) => type === 'deliver')).toHaveLength(1);
  });

  it('re-sends the failure response when the INVITE is retransmitted in Completed', () => {
    const driver = start({ reliable: false, tryingDelay: null });
    driver.dispatch({ type: 'send-response', response: response(invite, 603, { toTag: 'edge-1' }) });
    driver.clock.advance(100);
    const actions = driver.dispatch({ type: 'receive-request', request: invite });
    expect(statusOf(actions[0])).toBe(603);
  });

  it('over a reliable transport never retransmits the failure and terminates on its ACK', () => {
    const driver = start({ reliable: true, tryingDelay: null });
    driver.dispatch({ type: 'send-response', response: response(invite, 486, { toTag: 'edge-1' }) });
    expect(driver.nextTimer()).toEqual({ timer: 'H', deadline: 32_000 });
    expect(driver.dispatch({ type: 'receive-request', request: ack })).toEqual([{ type: 'terminated' }]);
    expect(driver.sendTimes()).toEqual([0]);
  });

  it('after a 2xx stays in Accepted: absorbs INVITE retransmissions and sends the TU\'s 2xx retransmissions until Timer L', () => {
    const driver = start({ reliable: false, tryingDelay: null });
    const ok = response(invite, 200, { toTag: 'edge-1' });
    driver.dispatch({ type: 'send-response', response: ok });
    expect(driver.state).toBe('accepted');
    driver.clock.advance(500);
    // RFC 6026: a retransmitted INVITE must not reach the TU as a new call.
    expect(driver.dispatch({ type: 'receive-request', request: invite })).toEqual([]);
    const retransmitted = driver.dispatch({ type: 'send-response', response: ok });
    expect(statusOf(retransmitted[0])).toBe(200);
    // A failure response after the 2xx is refused.
    expect(driver.dispatch({ type: 'send-response', response: response(invite, 500, { toTag: 'edge-1' }) })).toEqual([]);
    expect(driver.nextTimer()).toEqual({ timer: 'L', deadline: 32_000 });
    driver.runTimers();
    expect(driver.state).toBe('terminated');
  });

  it('passes an ACK that matches it in Accepted to the TU', () => {
    const driver = start({ reliable: true, tryingDelay: null });
    driver.dispatch({ type: 'send-response', response: response(invite, 200, { toTag: 'edge-1' }) });
    expect(driver.dispatch({ type: 'receive-request', request: ack })).toEqual([{ type: 'deliver', message: ack }]);
  });

  it('reports transport failures: the TU may still answer in Proceeding, Completed ends', () => {
    const driver = start({ reliable: true, tryingDelay: 0 });
    expect(driver.dispatch({ type: 'transport-error' })).toEqual([{ type: 'transport-error', status: 503 }]);
    expect(driver.state).toBe('proceeding');
    driver.dispatch({ type: 'send-response', response: response(invite, 480, { toTag: 'edge-1' }) });
    expect(driver.dispatch({ type: 'transport-error' })).toEqual([
      { type: 'transport-error', status: 503 },
      { type: 'terminated' },
    ]);
  });
});
