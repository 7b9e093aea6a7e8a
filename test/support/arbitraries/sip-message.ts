/**
 * fast-check arbitraries for whole SIP requests and responses, as the plain data of
 * `shared/message/message.ts`, together with what the typed header views should read back.
 */

import fc from 'fast-check';
import type { HeaderField, SipMessage, SipRequest, SipResponse } from '../../../shared/message/message.ts';
import {
  callIdArb,
  cseqNumberArb,
  extensionHeaderNameArb,
  headerNameArb,
  methodArb,
  nameAddrArb,
  oddValueArb,
  reasonPhraseArb,
  statusArb,
  requestUriArb,
  viaArb,
  type NameAddrModel,
  type ViaModel,
} from './sip-grammar.ts';

/** What a message's typed header views should report, in header order. */
export interface HeaderModel {
  readonly vias: readonly ViaModel[];
  readonly from: NameAddrModel;
  readonly to: NameAddrModel;
  readonly callId: string;
  readonly cseq: { readonly seq: number; readonly method: string };
  readonly contacts: readonly NameAddrModel[];
}

export interface GeneratedMessage<M extends SipMessage = SipMessage> {
  readonly message: M;
  readonly model: HeaderModel;
}

export interface MessageArbOptions {
  /** Body octets: UTF-8 text only (for the string API), or any octets (for the bytes API). */
  readonly body: 'text' | 'binary';
}

const encoder = new TextEncoder();

const textBodyArb = fc.oneof(
  { weight: 2, arbitrary: fc.constant('') },
  { weight: 2, arbitrary: fc.string({ unit: 'grapheme', maxLength: 64 }) },
  // Bodies are opaque to the message layer: CRLFCRLF, lone CR and NUL inside must not end or change them.
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 48 }) },
  { weight: 1, arbitrary: fc.constantFrom('v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\n\r\nm=audio 9 RTP/AVP 0\r\n') },
);

const bodyArb = (kind: MessageArbOptions['body']): fc.Arbitrary<Uint8Array> =>
  kind === 'text'
    ? textBodyArb.map((text) => encoder.encode(text))
    : fc.oneof(
        textBodyArb.map((text) => encoder.encode(text)),
        fc.uint8Array({ maxLength: 96 }),
      );

const field = (name: string, value: string): HeaderField => ({ name, value });

/**
 * Several values of one header, as separate fields or joined into one comma-separated field
 * (RFC 3261 §7.3.1: the two forms are equivalent, and a relay must keep the one it received).
 */
function listFields(nameArb: fc.Arbitrary<string>, values: readonly string[]): fc.Arbitrary<HeaderField[]> {
  if (values.length === 0) return fc.constant([]);
  return fc.tuple(nameArb, fc.boolean(), fc.constantFrom(', ', ',', ' , ', ',\r\n ', '\t,\t')).map(([name, joined, comma]) =>
    joined ? [field(name, values.join(comma))] : values.map((value) => field(name, value)),
  );
}

interface CoreHeaders {
  readonly model: HeaderModel;
  /** Via first, then the other fields in a shuffled order, Content-Length where it fell. */
  readonly fields: readonly HeaderField[];
}

function coreHeadersArb(cseqMethod: fc.Arbitrary<string>, body: Uint8Array): fc.Arbitrary<CoreHeaders> {
  return fc
    .record({
      vias: fc.array(viaArb, { minLength: 1, maxLength: 3 }),
      from: nameAddrArb,
      to: nameAddrArb,
      callId: callIdArb,
      cseq: fc.record({ seq: cseqNumberArb, method: cseqMethod }),
      contacts: fc.array(nameAddrArb, { maxLength: 2 }),
      maxForwards: fc.option(fc.integer({ min: 0, max: 255 })),
      extensions: fc.array(fc.tuple(extensionHeaderNameArb, oddValueArb), { maxLength: 5 }),
      names: fc.record({
        via: headerNameArb('Via', 'v'),
        from: headerNameArb('From', 'f'),
        to: headerNameArb('To', 't'),
        callId: headerNameArb('Call-ID', 'i'),
        cseq: headerNameArb('CSeq'),
        contact: headerNameArb('Contact', 'm'),
        contentType: headerNameArb('Content-Type', 'c'),
        contentLength: headerNameArb('Content-Length', 'l'),
      }),
      contentType: fc.constantFrom('application/sdp', 'text/plain;charset=UTF-8', 'application/octet-stream'),
      // RFC 4475 §3.1.1.1 sends `Content-Length: 0150`: leading zeros are legal.
      lengthZeros: fc.oneof({ weight: 9, arbitrary: fc.constant('') }, { weight: 1, arbitrary: fc.constantFrom('0', '000') }),
    })
    .chain((parts) =>
      fc
        .tuple(
          listFields(fc.constant(parts.names.via), parts.vias.map((via) => via.wire)),
          listFields(fc.constant(parts.names.contact), parts.contacts.map((contact) => contact.wire)),
        )
        .chain(([viaFields, contactFields]) => {
          // Fields move as groups: the Contact fields keep their relative order, which carries meaning.
          const groups: HeaderField[][] = [
            [field(parts.names.from, parts.from.wire)],
            [field(parts.names.to, parts.to.wire)],
            [field(parts.names.callId, parts.callId)],
            [field(parts.names.cseq, `${parts.cseq.seq} ${parts.cseq.method}`)],
            contactFields,
            ...(parts.maxForwards === null ? [] : [[field('Max-Forwards', String(parts.maxForwards))]]),
            ...parts.extensions.map(([name, value]) => [field(name, value)]),
            ...(body.length === 0 ? [] : [[field(parts.names.contentType, parts.contentType)]]),
            [field(parts.names.contentLength, `${parts.lengthZeros}${body.length}`)],
          ];
          return fc.shuffledSubarray(groups, { minLength: groups.length, maxLength: groups.length }).map((shuffled) => ({
            model: {
              vias: parts.vias,
              from: parts.from,
              to: parts.to,
              callId: parts.callId,
              cseq: parts.cseq,
              contacts: parts.contacts,
            },
            fields: [...viaFields, ...shuffled.flat()],
          }));
        }),
    );
}

export function requestArb(options: MessageArbOptions = { body: 'text' }): fc.Arbitrary<GeneratedMessage<SipRequest>> {
  return fc
    .record({ method: methodArb, uri: requestUriArb, body: bodyArb(options.body) })
    .chain(({ method, uri, body }) =>
      coreHeadersArb(fc.constant(method), body).map(({ model, fields }) => ({
        model,
        message: { kind: 'request', method, uri, version: 'SIP/2.0', headers: fields, body } satisfies SipRequest,
      })),
    );
}

export function responseArb(options: MessageArbOptions = { body: 'text' }): fc.Arbitrary<GeneratedMessage<SipResponse>> {
  return fc
    .record({ status: statusArb, reason: reasonPhraseArb, body: bodyArb(options.body) })
    .chain(({ status, reason, body }) =>
      coreHeadersArb(methodArb, body).map(({ model, fields }) => ({
        model,
        message: { kind: 'response', status, reason, version: 'SIP/2.0', headers: fields, body } satisfies SipResponse,
      })),
    );
}

export function messageArb(options: MessageArbOptions = { body: 'text' }): fc.Arbitrary<GeneratedMessage> {
  return fc.oneof(requestArb(options), responseArb(options));
}
