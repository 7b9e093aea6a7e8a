/**
 * A PbxLink in the real edge against sipp registrars over TCP: the answers a real registrar
 * rarely gives on demand (403, 503, a 401 to correct-looking credentials), and what Asterisk's
 * retry options make of them. The link's `recent` outcomes say what it did after each answer and
 * when; sipp's message log says how many REGISTERs reached it.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { peerAvailable } from '../support/peers.ts';
import { startLinkEdge, type LinkEdge, type LinkOutcome } from './support/link-edge.ts';
import { startSippRegistrar, type RunningSippRegistrar } from './support/sipp-registrar.ts';

const OK = { status: '200 OK', headers: ['[last_Contact:];expires=60'] };

describe.runIf(peerAvailable('sipp'))('a PbxLink against sipp registrars', () => {
  let edge: LinkEdge;
  let sipp: RunningSippRegistrar | undefined;
  let serial = 0;

  beforeAll(async () => {
    edge = await startLinkEdge();
  }, 60_000);

  afterEach(async () => {
    await sipp?.stop();
    sipp = undefined;
  });

  afterAll(async () => {
    await edge?.stop();
  });

  async function link(registrar: RunningSippRegistrar, options: Record<string, unknown>): Promise<string> {
    serial += 1;
    const id = `sipp-${serial}`;
    await edge.put(id, { host: '127.0.0.1', port: registrar.port, transport: 'tcp', username: 'alice', password: 'secret', max_random_initial_delay: 0, ...options });
    return id;
  }

  const steps = (recent: readonly LinkOutcome[]) => recent.map((outcome) => [outcome.status_line, outcome.state]);
  const gap = (recent: readonly LinkOutcome[]) => Date.parse(recent[1]!.at) - Date.parse(recent[0]!.at);

  it('answers 403 by waiting forbidden_retry_interval (jittered, never longer), then registers', async () => {
    sipp = await startSippRegistrar([{ status: '403 Forbidden' }, OK]);
    const id = await link(sipp, { forbidden_retry_interval: 1 });
    const view = await edge.until(id, 'registered', 10_000);
    expect(steps(view.registration.recent)).toEqual([['403 Forbidden', 'rejected'], ['200 OK', 'registered']]);
    expect(gap(view.registration.recent)).toBeGreaterThanOrEqual(900);
    expect(view.registration.retries).toBe(0);
    expect(sipp.registers()).toBe(2);
    await edge.remove(id);
  });

  it('stops at 403 when forbidden_retry_interval is 0 (the default)', async () => {
    sipp = await startSippRegistrar([{ status: '403 Forbidden' }]);
    const id = await link(sipp, {});
    const view = await edge.until(id, 'failed', 10_000);
    expect(view.registration.last_status).toBe('403 Forbidden');
    expect(sipp.registers()).toBe(1);
    await edge.remove(id);
  });

  it('answers 503 by retrying at retry_interval, then registers', async () => {
    sipp = await startSippRegistrar([{ status: '503 Service Unavailable' }, OK]);
    const id = await link(sipp, { retry_interval: 1 });
    const view = await edge.until(id, 'registered', 10_000);
    expect(steps(view.registration.recent)).toEqual([['503 Service Unavailable', 'retrying'], ['200 OK', 'registered']]);
    expect(gap(view.registration.recent)).toBeGreaterThanOrEqual(900);
    expect(sipp.registers()).toBe(2);
    await edge.remove(id);
  });

  it('ends failed after a 401 to its answered credentials (auth_rejection_permanent), without looping', async () => {
    const challenge = 'WWW-Authenticate: Digest realm="sipp.test", nonce="[pid]n[call_number]", qop="auth", algorithm=MD5';
    sipp = await startSippRegistrar([
      { status: '401 Unauthorized', headers: [challenge] },
      { status: '401 Unauthorized', headers: [challenge] },
    ]);
    const id = await link(sipp, {});
    const view = await edge.until(id, 'failed', 10_000);
    expect(steps(view.registration.recent)).toEqual([['401 Unauthorized', 'failed']]);
    expect(sipp.registers()).toBe(2);
    await edge.remove(id);
  });
});
