import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { parseUri } from '../../../shared/grammar/index.ts';
import {
  getCSeq,
  getCallId,
  getContacts,
  getFrom,
  getTo,
  getVia,
  parseMessage,
  parseMessageBytes,
  serializeMessage,
  serializeMessageBytes,
  type SipMessage,
} from '../../../shared/message/index.ts';
import type { NameAddrModel } from '../../support/arbitraries/sip-grammar.ts';
import { messageArb, type HeaderModel } from '../../support/arbitraries/sip-message.ts';
import { propertyRuns, propertyTimeout } from '../../support/arbitraries/property-runs.ts';

const RUNS = propertyRuns(1_500);
/** Generating a message costs ~0.9 ms (fast-check), parsing and comparing it a few tens of us. */
const TIMEOUT = propertyTimeout(RUNS, 1);

/** The typed views, in the shape of the generator's model, so one `toEqual` compares them all. */
function typedViews(message: SipMessage): unknown {
  const contacts = getContacts(message);
  return {
    vias: getVia(message).map((via) => ({
      transport: via.transport,
      host: via.host,
      port: via.port,
      branch: via.branch,
      received: via.received,
      rport: via.rport,
    })),
    from: getFrom(message),
    to: getTo(message),
    callId: getCallId(message),
    cseq: getCSeq(message),
    contacts: contacts === '*' ? contacts : contacts.map((contact) => ({ displayName: contact.displayName, uri: contact.uri })),
  };
}

function expectedAddress(model: NameAddrModel): unknown {
  return expect.objectContaining({
    uri: parseUri(model.uri),
    ...(model.displayName === undefined ? {} : { displayName: model.displayName }),
    ...(model.tag === undefined ? {} : { tag: model.tag }),
  });
}

function expectedViews(model: HeaderModel): unknown {
  return {
    vias: model.vias.map(({ transport, host, port, branch, received, rport }) => ({
      transport,
      host,
      port,
      branch,
      received,
      rport,
    })),
    from: expectedAddress(model.from),
    to: expectedAddress(model.to),
    callId: model.callId,
    cseq: model.cseq,
    contacts: model.contacts.map((contact) => ({ displayName: contact.displayName, uri: parseUri(contact.uri) })),
  };
}

describe('message round-trip properties', () => {
  it('parses the serialised text of any message back to the same message', { timeout: TIMEOUT }, () => {
    fc.assert(
      fc.property(messageArb({ body: 'text' }), ({ message }) => {
        expect(parseMessage(serializeMessage(message))).toEqual(message);
      }),
      { numRuns: RUNS },
    );
  });

  it('parses the serialised octets of any message, binary body included, back to the same message', { timeout: TIMEOUT }, () => {
    fc.assert(
      fc.property(messageArb({ body: 'binary' }), ({ message }) => {
        expect(parseMessageBytes(serializeMessageBytes(message))).toEqual(message);
      }),
      { numRuns: RUNS },
    );
  });

  it('writes the text form and the octet form of a message identically', { timeout: TIMEOUT }, () => {
    fc.assert(
      fc.property(messageArb({ body: 'text' }), ({ message }) => {
        expect(serializeMessageBytes(message)).toEqual(new TextEncoder().encode(serializeMessage(message)));
      }),
      { numRuns: RUNS },
    );
  });

  it(
    'reads back through the typed views exactly the Via, From, To, Call-ID, CSeq and Contact values written',
    { timeout: TIMEOUT },
    () => {
      fc.assert(
        fc.property(messageArb({ body: 'text' }), ({ message, model }) => {
          const parsed = parseMessageBytes(serializeMessageBytes(message));
          expect(typedViews(parsed)).toEqual(expectedViews(model));
        }),
        { numRuns: RUNS },
      );
    },
  );
});
