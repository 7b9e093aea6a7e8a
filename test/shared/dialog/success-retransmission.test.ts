import { describe, expect, it } from 'vitest';
import {
  startSuccessRetransmission,
  successRetransmissionTransition,
  type SuccessRetransmission,
} from '../../../shared/dialog/index.ts';
import { FakeClock } from '../../support/fake-clock.ts';
import { persisted } from '../../support/persisted.ts';
import { request, response } from '../../support/sip-messages.ts';

const invite = request();
const ok = response(invite, 200, { toTag: 'edge-1', headers: ['Contact: <sip:edge@sipedge.example;transport=ws>'] });

function runUntilDone(state: SuccessRetransmission, clock: FakeClock, ackAt = Number.POSITIVE_INFINITY) {
  const log: { at: number; type: string }[] = [];
  let current = persisted(state);
  while (current.status === 'retransmitting' && current.deadline !== undefined) {
    if (ackAt <= current.deadline) {
      clock.advanceTo(ackAt);
      current = persisted(successRetransmissionTransition(current, { type: 'ack' }, clock.now()).state);
      break;
    }
    clock.advanceTo(current.deadline);
    const { state: next, actions } = successRetransmissionTransition(current, { type: 'timer' }, clock.now());
    for (const action of actions) log.push({ at: clock.now(), type: action.type });
    current = persisted(next);
  }
  return { state: current, log };
}

describe('the UAS retransmitting its 2xx until the ACK (RFC 3261 §13.3.1.4)', () => {
  it('re-sends at T1, doubling to T2, and gives up after 64*T1 asking the TU to hang up', () => {
    const clock = new FakeClock(0);
    const { state, log } = runUntilDone(startSuccessRetransmission(ok, {}, 0), clock);
    expect(log.filter((entry) => entry.type === 'send').map((entry) => entry.at)).toEqual([
      500, 1_500, 3_500, 7_500, 11_500, 15_500, 19_500, 23_500, 27_500, 31_500,
    ]);
    expect(log.at(-1)).toEqual({ at: 32_000, type: 'ack-timeout' });
    expect(state.status).toBe('abandoned');
  });

  it('stops as soon as the ACK arrives', () => {
    const clock = new FakeClock(0);
    const { state, log } = runUntilDone(startSuccessRetransmission(ok, { flow: 'wss-7' }, 0), clock, 2_000);
    expect(log.map((entry) => entry.at)).toEqual([500, 1_500]);
    expect(state.status).toBe('acknowledged');
    expect(state.deadline).toBeUndefined();
  });

  it('ignores an early or repeated timer', () => {
    const state = startSuccessRetransmission(ok, {}, 0);
    expect(successRetransmissionTransition(state, { type: 'timer' }, 100)).toEqual({ state, actions: [] });
  });

  it('refuses to retransmit anything but a 2xx', () => {
    expect(() => startSuccessRetransmission(response(invite, 486, { toTag: 'x' }), {}, 0)).toThrow(RangeError);
  });
});
