/** Inbound static mappings: by number (Request-URI user), then by To user, optionally per link. */
import { describe, expect, it } from 'vitest';
import { findMapping, headerUser, uriUser } from '../../workers/routing/inbound-router.ts';
import type { InboundMapping } from '../../workers/routing/routing-config.ts';
import type { InboundRequest } from '../../workers/routing/routing-contract.ts';

const invite = (requestUri: string, to: string, linkId = 'trunk-a'): InboundRequest => ({ linkId, requestUri, to, from: '<sip:+4930999@pbx.example>;tag=1', headers: [] });

const mappings: InboundMapping[] = [
  { id: 'sales-did', number: '+4930555100', users: ['alice', 'bob'] },
  { id: 'support', to_user: 'support', users: ['carol'] },
  { id: 'pbx-only', number: '200', link: 'pbx', users: ['dave'] },
];

describe('inbound mappings', () => {
  it('maps a DID to its ring group', () => {
    expect(findMapping(invite('sip:+4930555100@edge.example;user=phone', '<sip:+4930555100@edge.example>'), mappings)?.users).toEqual(['alice', 'bob']);
  });

  it('maps a To user when the number has no mapping', () => {
    expect(findMapping(invite('sip:s@edge.example', '"Support" <sip:support@edge.example>;tag=x'), mappings)?.id).toBe('support');
  });

  it('honours a mapping\'s link', () => {
    expect(findMapping(invite('sip:200@edge.example', '<sip:200@edge.example>'), mappings)).toBeUndefined();
    expect(findMapping(invite('sip:200@edge.example', '<sip:200@edge.example>', 'pbx'), mappings)?.id).toBe('pbx-only');
  });

  it('reads users from URIs and headers, unescaped, and nothing from what does not parse', () => {
    expect(uriUser('sip:%2B49@x')).toBe('+49');
    expect(uriUser('not a uri')).toBeUndefined();
    expect(headerUser('sip:bob@x')).toBe('bob');
    expect(headerUser('<bad')).toBeUndefined();
  });
});
