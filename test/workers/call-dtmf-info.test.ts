/** The DTMF key in a SIP INFO (`workers/call/dtmf-info.ts`), as SIP.js and JsSIP send it. */
import { describe, expect, it } from 'vitest';
import { dtmfKeyOf } from '../../workers/call/dtmf-info.ts';

describe('the DTMF key of an INFO', () => {
  it('reads application/dtmf-relay (Signal and Duration) and application/dtmf (the key alone)', () => {
    expect(dtmfKeyOf('INFO', { contentType: 'application/dtmf-relay', body: 'Signal=5\r\nDuration=160\r\n' })).toEqual({ digit: '5', durationMs: 160 });
    expect(dtmfKeyOf('INFO', { contentType: 'Application/DTMF-Relay; charset=utf-8', body: 'Signal= #\nDuration= 250' })).toEqual({ digit: '#', durationMs: 250 });
    expect(dtmfKeyOf('INFO', { contentType: 'application/dtmf', body: 'a\r\n' })).toEqual({ digit: 'A' });
    // Some phones number * and # as RFC 4733 does (10, 11); durations are held to 40 ms - 8 s.
    expect(dtmfKeyOf('INFO', { contentType: 'application/dtmf-relay', body: 'Signal=11\r\nDuration=5' })).toEqual({ digit: '#', durationMs: 40 });
    expect(dtmfKeyOf('INFO', { contentType: 'application/dtmf-relay', body: 'Signal=*\r\nDuration=60000' })).toEqual({ digit: '*', durationMs: 8000 });
  });

  it('reads nothing from other bodies, other methods, or a signal that is no key', () => {
    expect(dtmfKeyOf('INFO', { contentType: 'application/json', body: '{"Signal":"5"}' })).toBeUndefined();
    expect(dtmfKeyOf('MESSAGE', { contentType: 'application/dtmf', body: '5' })).toBeUndefined();
    expect(dtmfKeyOf('INFO', { contentType: 'application/dtmf-relay', body: 'Signal=X\r\nDuration=100' })).toBeUndefined();
    expect(dtmfKeyOf('INFO', { contentType: 'application/dtmf-relay', body: 'Duration=100' })).toBeUndefined();
    expect(dtmfKeyOf('INFO', { body: '5' })).toBeUndefined();
  });
});
