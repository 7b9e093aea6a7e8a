/**
 * Pager-mode instant messages between users of the edge (RFC 3428): what the edge keeps of a
 * MESSAGE, and the MESSAGE it sends to each of the recipient's devices.
 *
 * The edge relays as a B2BUA would: the recipient's devices get a request of the edge's own (new
 * Call-ID and tags, RFC 3428 §4: a MESSAGE outside a dialog creates none), from the sender's
 * authenticated address-of-record, with the body and Content-Type unchanged. Bodies are UTF-8 text
 * (RFC 7118 §5: a text frame), so non-ASCII survives byte for byte.
 */
import { parseNameAddr, serializeUri } from '../../shared/grammar/index.ts';
import { getHeader, type HeaderField, type SipRequest } from '../../shared/message/index.ts';
import { generateBranch } from '../../shared/transaction/index.ts';
import type { Flow } from '../sip/flow.ts';
import { edgeVia, identityOf, withoutTag } from '../sip/edge-ua.ts';
import { randomTag } from '../sip/wire.ts';

export interface PageMessage {
  readonly senderAor: string;
  /** From of the MESSAGE to the devices, without tag: the sender's AOR and the display name its device gave. */
  readonly from: string;
  /** To as the sender addressed it, without tag. */
  readonly to: string;
  readonly contentType: string;
  readonly body: string;
  /** When the edge took it, ms since the epoch: the Date of a stored message (RFC 3261 §20.17). */
  readonly receivedAt: number;
  /**
   * The instance URN of the one device a GRUU Request-URI named (RFC 5627 §8.4.2,
   * `workers/registrar/gruu.ts`); absent for a message to the user's AOR, which goes to every device.
   */
  readonly gruu?: string;
}

/** What the recipient's object made of a message: delivered to a device (200), stored (202), or refused. */
export interface MessageOutcome {
  readonly status: number;
  readonly reason: string;
}

/** A registered device of the recipient, as delivery needs it. */
export interface MessageTarget {
  readonly contact: string;
  readonly path: readonly string[];
  readonly flow: Flow;
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * RFC 3428 §7: the MESSAGE a device sent, as the edge keeps it, for the device `gruu` names when
 * the Request-URI was a GRUU; undefined when its body is not UTF-8.
 */
export function readPage(request: SipRequest, senderAor: string, now: number, gruu?: string): PageMessage | undefined {
  let body: string;
  try {
    body = strictUtf8.decode(request.body);
  } catch {
    return undefined;
  }
  return {
    senderAor,
    from: identityOf(senderAor, getHeader(request, 'From')),
    to: withoutTag(getHeader(request, 'To') ?? ''),
    // RFC 3428 §5: text/plain is what every UA takes; a body without a type is read as such.
    contentType: getHeader(request, 'Content-Type') ?? 'text/plain',
    body,
    receivedAt: now,
    ...(gruu === undefined ? {} : { gruu }),
  };
}

/** The MESSAGE the edge sends to one device; `stored` adds the Date it was taken. */
export function messageToDevice(page: PageMessage, target: MessageTarget, callId: string, domain: string, stored: boolean): SipRequest {
  const body = new TextEncoder().encode(page.body);
  const headers: HeaderField[] = [
    { name: 'Via', value: `${edgeVia(domain, target.flow.transport)};branch=${generateBranch()}` },
    { name: 'Max-Forwards', value: '70' },
    ...target.path.map((value) => ({ name: 'Route', value })),
    { name: 'To', value: page.to },
    { name: 'From', value: `${page.from};tag=${randomTag()}` },
    { name: 'Call-ID', value: callId },
    { name: 'CSeq', value: '1 MESSAGE' },
    ...(stored ? [{ name: 'Date', value: new Date(page.receivedAt).toUTCString() }] : []),
    { name: 'Content-Type', value: page.contentType },
    { name: 'Content-Length', value: String(body.length) },
  ];
  return { kind: 'request', method: 'MESSAGE', uri: serializeUri(parseNameAddr(target.contact).uri), version: 'SIP/2.0', headers, body };
}
