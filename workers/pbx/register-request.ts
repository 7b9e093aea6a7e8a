/**
 * The REGISTER a PbxLink sends (RFC 3261 §10.2), and what it reads back from a 2xx.
 *
 * One registration keeps one Call-ID and From tag, and a CSeq that grows by one per request,
 * for as long as the object lives (RFC 3261 §10.2.4: "A UA SHOULD use the same Call-ID for all
 * registrations during a single boot cycle"); an evicted object starts a new cycle. None of it is
 * persisted, so a refresh writes nothing to storage.
 */
import { authorize, createDigestClientState, type DigestClientState, type SelectedChallenge } from '../../shared/auth/index.ts';
import { parseUri, hasParam, type NameAddr } from '../../shared/grammar/index.ts';
import { getContacts, getExpires, SipParseError, type HeaderField, type SipRequest, type SipResponse } from '../../shared/message/index.ts';
import { generateBranch } from '../../shared/transaction/index.ts';
import { VERSION } from '../../shared/version.ts';
import { randomTag } from '../sip/wire.ts';
import { authUsername, type LinkIdentity, type PbxLinkConfig } from './link-config.ts';

/** What the requests of one registration share. Plain JSON. */
export interface RegisterSession {
  readonly callId: string;
  readonly fromTag: string;
  /** The CSeq of the next REGISTER. */
  readonly nextCSeq: number;
  readonly digest: DigestClientState;
  /**
   * The challenge last answered: later REGISTERs carry credentials for it at once, with the next
   * nonce count (RFC 7616 §3.4), which saves a round trip while the server takes the nonce.
   */
  readonly challenge?: { readonly status: 401 | 407; readonly selected: SelectedChallenge };
}

export function createRegisterSession(): RegisterSession {
  return { callId: `${randomTag()}${randomTag()}`, fromTag: randomTag(), nextCSeq: 1, digest: createDigestClientState() };
}

/** The methods a PbxLink answers, for Allow (RFC 3261 §20.5): keep-alives and calls. */
export const LINK_ALLOW = 'INVITE, ACK, CANCEL, BYE, OPTIONS, INFO, UPDATE';

/** RFC 3261 §20.42 / §18.2.2 transport token of the Via, and the Contact's transport parameter. */
export function transportToken(config: PbxLinkConfig): 'TCP' | 'TLS' {
  return config.transport === 'tls' ? 'TLS' : 'TCP';
}

/** The Contact URI (without header parameters), as the registrar will store it. */
export function contactUri(config: PbxLinkConfig, identity: LinkIdentity): string {
  const line = config.line ? `;line=${identity.line}` : '';
  return `sip:${config.contact_user}@${identity.contactHost};transport=${config.transport}${line}`;
}

function contactValue(config: PbxLinkConfig, identity: LinkIdentity): string {
  // RFC 5626 §4.2: a registration over an outbound flow carries reg-id and +sip.instance.
  const outbound = config.support_outbound ? `;reg-id=1;+sip.instance="<urn:uuid:${identity.instanceId}>"` : '';
  return `<${contactUri(config, identity)}>${outbound}${config.contact_header_params ?? ''}`;
}

/** RFC 3261 §8.1.2: with an outbound proxy, the request carries a Route to it (loose routing). */
export function routeValue(proxy: string): string {
  const uri = parseUri(proxy);
  const loose = uri.kind === 'sip' && !hasParam(uri.params, 'lr') ? ';lr' : '';
  return `<${proxy}${loose}>`;
}

export interface RegisterOptions {
  readonly config: PbxLinkConfig;
  readonly identity: LinkIdentity;
  readonly session: RegisterSession;
  /** Seconds asked for; 0 removes the binding (RFC 3261 §10.2.2). */
  readonly expires: number;
  /** Credentials to put in: the challenge of a 401/407 (RFC 3261 §22.2), or none. */
  readonly credentials?: { readonly status: 401 | 407; readonly selected: SelectedChallenge; readonly password: string };
}

export interface BuiltRegister {
  readonly request: SipRequest;
  readonly cseq: number;
  readonly session: RegisterSession;
}

export function buildRegister(options: RegisterOptions): BuiltRegister {
  const { config, identity, expires } = options;
  let session = options.session;
  const cseq = session.nextCSeq;
  const headers: HeaderField[] = [
    // RFC 3261 §18.1.1 and RFC 3581 §3: the registrar answers over this connection, to where the request came from.
    { name: 'Via', value: `SIP/2.0/${transportToken(config)} ${identity.contactHost};rport;branch=${generateBranch()}` },
    { name: 'Max-Forwards', value: '70' },
  ];
  if (config.outbound_proxy !== undefined) headers.push({ name: 'Route', value: routeValue(config.outbound_proxy) });
  headers.push(
    { name: 'From', value: `<${config.client_uri}>;tag=${session.fromTag}` },
    { name: 'To', value: `<${config.client_uri}>` },
    { name: 'Call-ID', value: session.callId },
    { name: 'CSeq', value: `${cseq} REGISTER` },
    { name: 'Contact', value: contactValue(config, identity) },
    { name: 'Expires', value: String(expires) },
  );
  // RFC 3327 §5 (path), RFC 5626 §4.2.1 (outbound): option tags the registrar may rely on.
  const supported = [...(config.support_path ? ['path'] : []), ...(config.support_outbound ? ['outbound'] : [])];
  if (supported.length > 0) headers.push({ name: 'Supported', value: supported.join(', ') });
  headers.push({ name: 'Allow', value: LINK_ALLOW }, { name: 'User-Agent', value: config.user_agent ?? `sipedge/${VERSION}` });
  const username = authUsername(config);
  if (options.credentials !== undefined && username !== undefined) {
    const { status, selected, password } = options.credentials;
    const answer = authorize({
      selected,
      account: { username, password },
      method: 'REGISTER',
      // RFC 3261 §22.4: the digest-uri is the Request-URI.
      uri: config.server_uri,
      state: session.digest,
    });
    headers.push({ name: status === 401 ? 'Authorization' : 'Proxy-Authorization', value: answer.value });
    session = { ...session, digest: answer.state, challenge: { status, selected } };
  }
  headers.push({ name: 'Content-Length', value: '0' });
  const request: SipRequest = { kind: 'request', method: 'REGISTER', uri: config.server_uri, version: 'SIP/2.0', headers, body: new Uint8Array(0) };
  return { request, cseq, session: { ...session, nextCSeq: cseq + 1 } };
}

function isOurContact(contact: NameAddr, config: PbxLinkConfig, identity: LinkIdentity): boolean {
  const uri = contact.uri;
  return uri.kind === 'sip' && uri.host.toLowerCase() === identity.contactHost && uri.user === config.contact_user;
}

/**
 * RFC 3261 §10.2.4: the 2xx lists every binding of the AOR; the `expires` parameter of our own
 * Contact says how long the registrar keeps it, else the Expires header, else what was asked.
 */
export function grantedExpires(response: SipResponse, config: PbxLinkConfig, identity: LinkIdentity, requested: number): number {
  try {
    const contacts = getContacts(response);
    if (contacts !== '*') {
      const ours = contacts.find((contact) => isOurContact(contact, config, identity));
      const param = ours?.params.find((p) => p.name.toLowerCase() === 'expires')?.value;
      if (param !== undefined && /^\d{1,10}$/.test(param)) return Number(param);
    }
    return getExpires(response) ?? requested;
  } catch (error) {
    if (error instanceof SipParseError) return requested;
    throw error;
  }
}
