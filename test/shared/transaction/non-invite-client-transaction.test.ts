import { describe, expect, it } from 'vitest';
import {
  createNonInviteClientTransaction,
  type NonInviteClientTransaction,
} from '../../../shared/transaction/index.ts';
import { FakeClock } from '../../support/fake-clock.ts';
import { request, response } from '../../support/sip-messages.ts';
import { TransactionDriver } from '../../support/transaction-driver.ts';

const bye = request({ method: 'BYE', to: '<sip:bob@pbx.example.com>;tag=a6c85cf', cseq: 314160 });

function start(reliable: boolean) {
  return new TransactionDriver<NonInviteClientTransaction>(
    createNonInviteClientTransaction(bye, { reliable }, 0),
    new FakeClock(0),
  );
}

describe('non-INVITE client transaction (RFC 3261 §17.1.2)', () => {
  it('retransmits over UDP at intervals doubling from T1 but capped at T2, then times out with 408 at Timer F', () => {
    const driver = start(false);
    driver.runTimers();
    // Timer E: 500, 1000, 2000, then 4000 (T2) apart; Timer F at 64*T1 = 32 s.
    expect(driver.sendTimes()).toEqual([0, 500, 1_500, 3_500, 7_500, 11_500, 15_500, 19_500, 23_500, 27_500, 31_500]);
    expect(driver.log.slice(-2)).toEqual([
      { at: 32_000, action: { type: 'timeout', status: 408 } },
      { at: 32_000, action: { type: 'terminated' } },
    ]);
  });

  it('after a provisional response retransmits every T2, and still times out at Timer F', () => {
    const driver = start(false);
    driver.fireNextTimer(); // 500
    driver.clock.advance(100);
    const trying = response(bye, 100);
    expect(driver.dispatch({ type: 'receive-response', response: trying })).toEqual([{ type: 'deliver', message: trying }]);
    expect(driver.state).toBe('proceeding');
    driver.runTimers();
    // Timer E was armed for 1500 before the 100; from then on it is reset to T2 each time.
    expect(driver.sendTimes()).toEqual([0, 500, 1_500, 5_500, 9_500, 13_500, 17_500, 21_500, 25_500, 29_500]);
    expect(driver.log.at(-2)!.action).toEqual({ type: 'timeout', status: 408 });
  });

  it('passes the final response up once and absorbs its retransmissions for T4 (Timer K)', () => {
    const driver = start(false);
    driver.clock.advance(40);
    const ok = response(bye, 200);
    expect(driver.dispatch({ type: 'receive-response', response: ok })).toEqual([{ type: 'deliver', message: ok }]);
    expect(driver.state).toBe('completed');
    expect(driver.nextTimer()).toEqual({ timer: 'K', deadline: 40 + 5_000 });
    expect(driver.dispatch({ type: 'receive-response', response: ok })).toEqual([]);
    driver.runTimers();
    expect(driver.state).toBe('terminated');
    expect(driver.sendTimes()).toEqual([0]);
  });

  it('over a reliable transport never retransmits and terminates on the final response', () => {
    const driver = start(true);
    expect(driver.nextTimer()).toEqual({ timer: 'F', deadline: 32_000 });
    const ok = response(bye, 200);
    expect(driver.dispatch({ type: 'receive-response', response: ok })).toEqual([
      { type: 'deliver', message: ok },
      { type: 'terminated' },
    ]);
  });

  it('over a reliable transport still times out with 408 when nobody answers', () => {
    const driver = start(true);
    driver.runTimers();
    expect(driver.sendTimes()).toEqual([0]);
    expect(driver.actionTypes()).toEqual(['send', 'timeout', 'terminated']);
  });

  it('reports a transport failure as 503', () => {
    const driver = start(false);
    expect(driver.dispatch({ type: 'transport-error' })).toEqual([
      { type: 'transport-error', status: 503 },
      { type: 'terminated' },
    ]);
  });

  it('refuses INVITE and ACK, which are not non-INVITE transactions', () => {
    expect(() => createNonInviteClientTransaction(request(), { reliable: false }, 0)).toThrow(RangeError);
    expect(() => createNonInviteClientTransaction(request({ method: 'ACK' }), { reliable: false }, 0)).toThrow(RangeError);
  });
});
