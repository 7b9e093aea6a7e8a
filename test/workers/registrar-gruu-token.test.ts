/**
 * The GRUU values themselves (workers/registrar/gruu.ts): a temporary GRUU reads back to its user
 * and device with the secret that made it, and to nothing when altered, made with another secret,
 * or not one of ours; a public GRUU's `gr` names the instance.
 */
import { describe, expect, it } from 'vitest';
import { createTempGruu, gruuInstanceOf, isGruuDevice, publicGruu, readTempGruu } from '../../workers/registrar/gruu.ts';

const SECRET = 'a nonce secret of some length';
const INSTANCE = '<urn:uuid:00000000-0000-4000-8000-000000000001>';

describe('GRUU values', () => {
  it('a temporary GRUU reads back to its user and device, and is new each time', () => {
    const one = createTempGruu('zoë+1@example.test', INSTANCE, 'Example.Test', SECRET);
    const two = createTempGruu('zoë+1@example.test', INSTANCE, 'example.test', SECRET);
    expect(one).not.toBe(two);
    expect(one).toMatch(/^sip:tgruu\.[A-Za-z0-9_-]+@example\.test;gr$/);
    expect(readTempGruu(one, SECRET)).toEqual({ aor: 'zoë+1@example.test', instanceUrn: 'urn:uuid:00000000-0000-4000-8000-000000000001' });
    expect(readTempGruu(two, SECRET)?.aor).toBe('zoë+1@example.test');
  });

  it('an altered, foreign or unrelated URI reads back to nothing', () => {
    const gruu = createTempGruu('alice@example.test', INSTANCE, 'example.test', SECRET);
    const at = gruu.indexOf('@') - 5;
    const altered = `${gruu.slice(0, at)}${gruu[at] === 'A' ? 'B' : 'A'}${gruu.slice(at + 1)}`;
    expect(readTempGruu(altered, SECRET)).toBeUndefined();
    expect(readTempGruu(gruu, 'another secret of some length')).toBeUndefined();
    expect(readTempGruu('sip:tgruu.AAAA@example.test;gr', SECRET)).toBeUndefined();
    expect(readTempGruu('sip:alice@example.test', SECRET)).toBeUndefined();
    expect(readTempGruu('not a uri', SECRET)).toBeUndefined();
  });

  it("a public GRUU is the AOR with gr naming the device's instance", () => {
    const gruu = publicGruu('bob smith@example.test', INSTANCE);
    expect(gruu).toBe('sip:bob%20smith@example.test;gr=urn:uuid:00000000-0000-4000-8000-000000000001');
    const gr = gruuInstanceOf(gruu);
    expect(gr).toBe('urn:uuid:00000000-0000-4000-8000-000000000001');
    expect(isGruuDevice(INSTANCE, gr ?? '')).toBe(true);
    expect(isGruuDevice('<urn:uuid:00000000-0000-4000-8000-000000000002>', gr ?? '')).toBe(false);
    expect(gruuInstanceOf('sip:bob@example.test')).toBeUndefined();
  });
});
