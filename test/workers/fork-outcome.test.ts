import { describe, expect, it } from 'vitest';
import { forkFailure } from '../../workers/call/fork-outcome.ts';

describe('the one failure a caller hears when every branch failed', () => {
  it.each([
    { statuses: [], status: 480, why: 'nobody registered' },
    { statuses: [486, 486], status: 486, why: 'every device busy' },
    { statuses: [486, 408], status: 486, why: 'the devices that answered were busy, the other never answered' },
    { statuses: [486, 430], status: 486, why: 'busy, and the other flow had failed' },
    { statuses: [408, 430, 480], status: 480, why: 'no device could be reached' },
    { statuses: [487, 480], status: 480, why: 'one cancelled, one unavailable' },
    { statuses: [487, 487], status: 487, why: 'the edge cancelled them all' },
    { statuses: [486, 603, 408], status: 603, why: 'a decline wins (RFC 3261 §16.7)' },
    { statuses: [488, 486], status: 488, why: 'a device that cannot take the offer says more than busy' },
    { statuses: [500, 488], status: 488, why: 'the lowest other failure' },
  ])('$status when $why', ({ statuses, status }) => {
    expect(forkFailure(statuses).status).toBe(status);
  });
});
