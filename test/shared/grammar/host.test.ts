import { describe, expect, it } from 'vitest';
import { isHost, isIpv4Address, isIpv6Address, normalizeIpAddress } from '../../../shared/grammar/index.ts';

describe('hosts', () => {
  it('tells valid IPv4 addresses from look-alikes', () => {
    expect(['192.0.2.1', '0.0.0.0', '255.255.255.255'].every(isIpv4Address)).toBe(true);
    expect(['256.0.0.1', '1.2.3', '1.2.3.4.5', '1..2.3', '01234.1.1.1', ''].some(isIpv4Address)).toBe(false);
  });

  it('accepts both RFC 5118 §4.10 spellings of an IPv4-embedded IPv6 address', () => {
    for (const valid of ['2001:db8::10', '::', '::1', '2001:db8:::192.0.2.1', '2001:db8::192.0.2.1', '::ffff:192.0.2.2', '1:2:3:4:5:6:7:8', '1:2:3:4:5:6:192.0.2.1']) {
      expect(isIpv6Address(valid), valid).toBe(true);
    }
    for (const invalid of ['2001:db8::10::1', '1:2:3:4:5:6:7:8:9', '12345::', 'g::1', ':1', '1:2:3:4:5:6:7:192.0.2.1']) {
      expect(isIpv6Address(invalid), invalid).toBe(false);
    }
  });

  it('accepts hostnames whose top label starts with a letter', () => {
    expect(['example.com', 'example.com.', 'host9', 'a-b.example', '4k8ncb2ot0s3.invalid', '[::1]'].every(isHost)).toBe(true);
    expect(['-a.example', 'a-.example', 'a..b', '1.2.3.999', '', '[::1', 'under_score.example'].some(isHost)).toBe(false);
  });

  it('normalises addresses for comparison', () => {
    expect(normalizeIpAddress('[2001:DB8:0::0:1]')).toBe(normalizeIpAddress('2001:db8::1'));
    expect(normalizeIpAddress('::ffff:192.0.2.2')).toBe('0:0:0:0:0:ffff:c000:202');
    expect(normalizeIpAddress('192.0.2.1')).toBe('192.0.2.1');
  });
});
