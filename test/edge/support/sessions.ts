/**
 * Waiting for a call's state in the real clients: a SIP.js session reaching a state, a JsSIP
 * session emitting `confirmed` or `ended`, each bounded by a timeout that names what was awaited.
 */
import type { RTCSession } from 'jssip/lib/RTCSession';
import type { Session, SessionState } from 'sip.js';
import { within } from './test-edge.ts';

/** Resolves when the SIP.js session is in `state` (at once if it already is). */
export function reach(session: Session, state: SessionState, ms = 10_000): Promise<void> {
  if (session.state === state) return Promise.resolve();
  return within(ms, `SIP.js session ${state}`, new Promise<void>((resolve) => {
    const listener = (next: SessionState): void => {
      if (next !== state) return;
      session.stateChange.removeListener(listener);
      resolve();
    };
    session.stateChange.addListener(listener);
  }));
}

/** Resolves with the event's payload when the JsSIP session emits `event` (at once for `ended` if it has ended). */
export function jssipEvent(session: RTCSession, event: 'confirmed' | 'ended', ms = 10_000): Promise<{ originator?: string }> {
  if (event === 'ended' && session.isEnded()) return Promise.resolve({});
  return within(ms, `JsSIP ${event}`, new Promise((resolve) => {
    session.once(event, (payload: { originator?: string }) => resolve(payload ?? {}));
  }));
}
