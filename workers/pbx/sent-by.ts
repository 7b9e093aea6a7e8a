/**
 * The address a PbxLink's messages name for themselves, fixed where the transport is known: the
 * REGISTER and the calls build their Via and Contact for a stream flow (`SIP/2.0/TCP`, a
 * `.invalid` or domain host), and the connection that carries them rewrites both for what it
 * really is before they go out:
 * - UDP through a media node's SIP/UDP gateway: Via `SIP/2.0/UDP addr:port;rport` and Contact
 *   `addr:port;transport=udp`, the gateway's bound socket as the PBX reaches it (RFC 3261 §18.1.1:
 *   responses over UDP go to the Via's sent-by, or its source with rport, RFC 3581; requests
 *   within a dialog go to the Contact, §12.1.1);
 * - SIP over WebSocket (RFC 7118 §5.2, §7): Via transport `WSS`, Contact `transport=ws`, hosts
 *   unchanged (a WebSocket client cannot know its address: the PBX answers over the connection).
 *
 * Only the link's own Via (the top one of a request it sends) and Contact are touched: a response
 * keeps the PBX's Vias.
 */
import { hasParam, parseNameAddr, parseVia, serializeNameAddr, serializeVia, withParam } from '../../shared/grammar/index.ts';
import { parseMessage, serializeMessage, type HeaderField, type SipMessage } from '../../shared/message/index.ts';

export interface SentBy {
  /** The Via transport token. */
  readonly via: 'UDP' | 'WSS';
  /** The Contact URI's `transport` parameter. */
  readonly uriTransport: 'udp' | 'ws';
  /** The address to write, or undefined to keep the hosts as built. */
  readonly address?: { readonly host: string; readonly port: number };
}

function isNamed(field: HeaderField, long: string, compact: string): boolean {
  const name = field.name.toLowerCase();
  return name === long || name === compact;
}

function rewriteVia(value: string, sentBy: SentBy): string {
  const [first] = parseVia(value);
  if (first === undefined) return value;
  const address = sentBy.address;
  // RFC 3581 §3: over UDP, ask for the response at the source port as well.
  const params = sentBy.via === 'UDP' && !hasParam(first.params, 'rport') ? [...first.params, { name: 'rport' }] : first.params;
  return serializeVia({ ...first, transport: sentBy.via, ...(address === undefined ? {} : { host: address.host, port: address.port }), params });
}

function rewriteContact(value: string, sentBy: SentBy): string {
  const contact = parseNameAddr(value);
  const uri = contact.uri;
  if (uri.kind !== 'sip') return value;
  const address = sentBy.address;
  const params = withParam(uri.params, 'transport', sentBy.uriTransport);
  return serializeNameAddr({ ...contact, uri: { ...uri, ...(address === undefined ? {} : { host: address.host, port: address.port }), params } });
}

/** `message` with the link's Via (requests only) and Contact naming `sentBy`. */
export function withSentBy(message: SipMessage, sentBy: SentBy): SipMessage {
  let viaDone = message.kind === 'response';
  const headers = message.headers.map((field) => {
    if (!viaDone && isNamed(field, 'via', 'v')) {
      viaDone = true;
      return { ...field, value: rewriteVia(field.value, sentBy) };
    }
    if (isNamed(field, 'contact', 'm') && field.value.trim() !== '*') return { ...field, value: rewriteContact(field.value, sentBy) };
    return field;
  });
  return { ...message, headers };
}

/** The same for a message as written on the wire. */
export function wireWithSentBy(wire: string, sentBy: SentBy): string {
  return serializeMessage(withSentBy(parseMessage(wire), sentBy));
}
