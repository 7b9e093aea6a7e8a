/**
 * Conformance against the RFC 4475 and RFC 5118 torture messages, every manifest entry one case.
 * The corpus (`/work/shared/corpora/sip-torture`, beside the repository) and its README define the
 * expectation values. A case that does not pass is listed in KNOWN_FAILURES with the reason, and
 * the test asserts that it still fails, so that a fix shows up.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { serializeNameAddr } from '../../../shared/grammar/index.ts';
import {
  DEFAULT_METHODS,
  SipParseError,
  checkRequest,
  checkResponse,
  createResponse,
  getCSeq,
  getCallId,
  getContacts,
  getContentLength,
  getContentType,
  getExpires,
  getFrom,
  getHeader,
  getMaxForwards,
  getRoutes,
  getTo,
  getVia,
  hasHeader,
  parseMessageBytes,
  serializeMessageBytes,
  type HeaderField,
  type RequestCheckOptions,
  type SipMessage,
  type SipRequest,
} from '../../../shared/message/index.ts';

const CORPUS = resolve(import.meta.dirname, '../../../../shared/corpora/sip-torture');

interface Entry {
  readonly file: string;
  readonly section: string | null;
  readonly title: string;
  readonly expectation: string;
  readonly also_acceptable?: readonly string[];
  readonly by_role?: Readonly<Record<string, string>>;
  readonly sha256: string;
}

const manifest = JSON.parse(readFileSync(resolve(CORPUS, 'manifest.json'), 'utf8')) as Entry[];

function name(entry: Entry): string {
  return entry.file.slice(entry.file.lastIndexOf('/') + 1, -'.dat'.length);
}

/** What the element does with the message. */
type Outcome =
  | { readonly kind: 'refused'; readonly error: SipParseError }
  | { readonly kind: 'answered'; readonly status: number; readonly detail: string; readonly headers: readonly HeaderField[]; readonly request: SipRequest }
  | { readonly kind: 'dropped'; readonly reason: string }
  | { readonly kind: 'accepted'; readonly message: SipMessage };

/** The UAS sipedge runs: SDP calls, text and multipart MESSAGE. */
const UAS: RequestCheckOptions = { role: 'uas', contentTypes: ['application/sdp', 'text/plain', 'multipart/mixed'] };
const REGISTRAR: RequestCheckOptions = { ...UAS, role: 'registrar' };

function defaultOptions(request: SipRequest): RequestCheckOptions {
  return request.method === 'REGISTER' ? REGISTRAR : UAS;
}

function parse(entry: Entry): SipMessage | SipParseError {
  try {
    return parseMessageBytes(new Uint8Array(readFileSync(resolve(CORPUS, entry.file))));
  } catch (error) {
    if (error instanceof SipParseError) return error;
    throw error;
  }
}

/** `options` undefined: the parser's verdict only. */
function outcomeOf(entry: Entry, options: RequestCheckOptions | 'default' | undefined): Outcome {
  const parsed = parse(entry);
  if (parsed instanceof SipParseError) return { kind: 'refused', error: parsed };
  if (options === undefined) return { kind: 'accepted', message: parsed };
  if (parsed.kind === 'response') {
    const verdict = checkResponse(parsed, { role: 'uac' });
    return verdict ? { kind: 'dropped', reason: verdict.reason } : { kind: 'accepted', message: parsed };
  }
  const rejection = checkRequest(parsed, options === 'default' ? defaultOptions(parsed) : options);
  if (rejection) return { kind: 'answered', status: rejection.status, detail: rejection.detail, headers: rejection.headers, request: parsed };
  return { kind: 'accepted', message: parsed };
}

/** Does the outcome meet one expectation value of the manifest (README.md, "manifest.json")? */
function meets(outcome: Outcome, expectation: string): boolean {
  if (expectation === 'unspecified') return true;
  if (expectation === 'parse' || expectation.startsWith('parse (') || expectation === 'fallback-rfc2543-transaction-matching') {
    return outcome.kind === 'accepted';
  }
  if (expectation === 'reject-400') {
    return (outcome.kind === 'refused' && outcome.error.response === 400) || (outcome.kind === 'answered' && outcome.status === 400);
  }
  if (expectation === 'reject-framing') return outcome.kind === 'refused' && /Content-Length/.test(outcome.error.reason);
  if (expectation === 'discard') return (outcome.kind === 'refused' && outcome.error.response === undefined) || outcome.kind === 'dropped';
  const respond = /^respond-(\d{3})$/.exec(expectation);
  if (respond) {
    const status = Number(respond[1]);
    return status === 200 ? outcome.kind === 'accepted' : outcome.kind === 'answered' && outcome.status === status;
  }
  throw new Error(`expectation '${expectation}' is not understood by this test`);
}

function describeOutcome(outcome: Outcome): string {
  switch (outcome.kind) {
    case 'refused':
      return `refused by the parser (${outcome.error.response ?? 'no answer'}): ${outcome.error.reason}`;
    case 'answered':
      return `answered ${outcome.status}: ${outcome.detail}`;
    case 'dropped':
      return `dropped: ${outcome.reason}`;
    case 'accepted':
      return 'accepted';
  }
}

function reasonOf(outcome: Outcome): string | undefined {
  if (outcome.kind === 'refused') return outcome.error.reason;
  if (outcome.kind === 'answered') return outcome.detail;
  if (outcome.kind === 'dropped') return outcome.reason;
  return undefined;
}

/** Each refusal must name its fault; a refusal without an entry here fails the test. */
const FAULTS: Readonly<Record<string, RegExp>> = {
  badinv01: /^Via: empty parameter/,
  clerr: /^Content-Length 9999 exceeds the 154 octets received$/,
  ncl: /^Content-Length: value '-999' is not a non-negative integer$/,
  scalar02: /^CSeq: sequence number 36893488147419103232 is larger than 4294967295$/,
  scalarlg: /^CSeq: sequence number 9292394834772304023312 is larger than 4294967295$/,
  quotbal: /^To: unterminated quoted string/,
  ltgtruri: /^Request-URI: .* enclosed in <>$/,
  lwsruri: /^Request-URI 'sip:user@example.com; lr' contains whitespace$/,
  lwsstart: /^Request-Line elements are separated by more than one SP$/,
  trws: /^Request-Line ends in whitespace after the SIP-Version$/,
  escruri: /carries URI headers, which a Request-URI may not$/,
  regbadct: /^Contact: URI .* carries headers, so it must be enclosed in <>/,
  badaspec: /^To: whitespace inside < sip:t\.watson@example\.org >/,
  baddn: /^From: display name 'Bell, Alexander' must be quoted/,
  badvers: /^SIP-Version SIP\/7\.0 is not SIP\/2\.0$/,
  mismatch01: /^CSeq method INVITE does not match the request method OPTIONS$/,
  mismatch02: /NEWMETHOD/,
  bigcode: /^status code '4294967301' is not three digits$/,
  badbranch: /^Via branch is only the magic cookie z9hG4bK$/,
  insuf: /^missing From, To, Call-ID$/,
  unkscm: /^Request-URI scheme nobodyknowsthisscheme is not supported$/,
  novelsc: /^Request-URI scheme soap\.beep is not supported$/,
  bext01: /^Require names unsupported extensions: nothingSupportsThis, nothingSupportsThisEither$/,
  invut: /^Content-Type application\/unknownformat is not supported$/,
  multi01: /^multiple (From|To|Call-ID|CSeq|Max-Forwards) header fields$/,
  mcl01: /^Content-Length appears twice with different values \(13 and 5\)$/,
  bcast: /^a response at a UAC carries 2 Via values$/,
  sdp01: /^Accept allows none of application\/sdp$/,
  test: /has no SIP-Version/,
  'ipv6-bad': /IPv6 address not enclosed in \[ \]/,
};

/** Header fields the answer must carry, where the RFC names them. */
const ANSWER_HEADERS: Readonly<Record<string, HeaderField>> = {
  bext01: { name: 'Unsupported', value: 'nothingSupportsThis, nothingSupportsThisEither' },
  invut: { name: 'Accept', value: 'application/sdp, text/plain, multipart/mixed' },
  mismatch02: { name: 'Allow', value: DEFAULT_METHODS.join(', ') },
};

/** RFC 4475 §3.3.12-14: what a registrar's 200 must show as the binding. */
const REGISTERED_CONTACT: Readonly<Record<string, string>> = {
  cparam01: '<sip:+19725552222@gw1.example.net>;unknownparam',
  cparam02: '<sip:+19725552222@gw1.example.net;unknownparam>',
  regescrt: '<sip:user@example.com?Route=%3Csip:sip.example.com%3E>',
};

const KNOWN_FAILURES: Readonly<Record<string, string>> = {
  'valid/ipv6-in-sdp.dat':
    "The archive copy declares Content-Length: 268 but carries 242 octets of body (251 once written with CRLF): RFC 3261 §18.3 makes a datagram that ends before its body a 400, exactly as for clerr.dat. The defect is the archive's (see the manifest's ARCHIVE NOTE); derived/rfc5118-wire/ipv6-in-sdp.dat, with the real length, parses.",
  'valid/mult-ip-in-sdp.dat':
    "The archive copy declares Content-Length: 181 but carries 180 octets of body (189 with CRLF): RFC 3261 §18.3 makes it a 400. The defect is the archive's; derived/rfc5118-wire/mult-ip-in-sdp.dat parses.",
};

/** Every typed view a user of the stack reads must succeed on a message that is accepted. */
function readEveryTypedHeader(message: SipMessage): void {
  getVia(message);
  getFrom(message);
  getTo(message);
  getCallId(message);
  getCSeq(message);
  getMaxForwards(message);
  getContentLength(message);
  getContentType(message);
  getContacts(message);
  getExpires(message);
  getRoutes(message, 'Route');
  getRoutes(message, 'Record-Route');
}

function usesDefaultRole(entry: Entry): boolean {
  return !(entry.expectation === 'parse' && entry.by_role !== undefined);
}

describe('the torture corpus', () => {
  it('is complete and byte-exact', () => {
    expect(manifest).toHaveLength(75);
    for (const entry of manifest) {
      const path = resolve(CORPUS, entry.file);
      expect(existsSync(path), entry.file).toBe(true);
      expect(createHash('sha256').update(readFileSync(path)).digest('hex'), entry.file).toBe(entry.sha256);
    }
  });

  it('lists as known failures only files of the manifest', () => {
    for (const file of Object.keys(KNOWN_FAILURES)) expect(manifest.some((entry) => entry.file === file), file).toBe(true);
  });
});

describe.each(manifest.map((entry) => [`${entry.file} (${entry.section ?? 'no section'}: ${entry.title})`, entry] as const))('%s', (_label, entry) => {
  const acceptable = [entry.expectation, ...(entry.also_acceptable ?? [])];

  const title = KNOWN_FAILURES[entry.file] === undefined ? `meets its expectation: ${acceptable.join(' or ')}` : `is a known failure, still not meeting: ${acceptable.join(' or ')}`;
  it(title, () => {
    const outcome = outcomeOf(entry, usesDefaultRole(entry) ? 'default' : undefined);
    const met = acceptable.some((expectation) => meets(outcome, expectation));
    const knownFailure = KNOWN_FAILURES[entry.file];
    if (knownFailure !== undefined) {
      expect(met, `now passes (${describeOutcome(outcome)}): remove it from KNOWN_FAILURES`).toBe(false);
      return;
    }
    expect(met, describeOutcome(outcome)).toBe(true);

    const reason = reasonOf(outcome);
    if (reason !== undefined) {
      const fault = FAULTS[name(entry)];
      expect(fault, `no FAULTS entry for ${name(entry)}: ${reason}`).toBeDefined();
      expect(reason).toMatch(fault!);
    }
    if (outcome.kind === 'answered') {
      const required = ANSWER_HEADERS[name(entry)];
      if (required) expect(outcome.headers).toContainEqual(required);
      // The answer can be built from the request's own headers (RFC 3261 §8.2.6).
      const answer = createResponse(outcome.request, outcome.status, undefined, { headers: outcome.headers });
      expect(answer.status).toBe(outcome.status);
      expect(getHeader(answer, 'Call-ID')).toBe(getHeader(outcome.request, 'Call-ID'));
    }
    if (outcome.kind === 'refused' && outcome.error.response === 400 && outcome.error.partial?.kind === 'request') {
      // A refused request still offers what parsed, so that the 400 reaches its sender.
      const answer = createResponse(outcome.error.partial, 400);
      expect(getHeader(answer, 'Via')).toBe(getHeader(outcome.error.partial, 'Via'));
    }
    if (outcome.kind === 'accepted') {
      readEveryTypedHeader(outcome.message);
      // Writing the message and reading it again gives the same message.
      expect(parseMessageBytes(serializeMessageBytes(outcome.message))).toEqual(outcome.message);
    }
    const contact = REGISTERED_CONTACT[name(entry)];
    if (contact !== undefined && outcome.kind === 'accepted' && outcome.message.kind === 'request') {
      const contacts = getContacts(outcome.message);
      if (contacts === '*') throw new Error('expected a binding');
      const ok = createResponse(outcome.message, 200, undefined, { toTag: 'reg1', headers: contacts.map((c) => ({ name: 'Contact', value: serializeNameAddr(c) })) });
      expect(getHeader(ok, 'Contact')).toBe(contact);
      expect(getTo(ok)?.tag).toBe('reg1');
    }
  });

  const roles = Object.entries(entry.by_role ?? {});
  if (roles.length > 0) {
    it.each(roles)('as a %s: %s', (role, behaviour) => {
      const expected = roleExpectation(role, behaviour);
      if (expected.kind === 'elsewhere') {
        // The layer that owns it is tested there; here the request must reach it untouched.
        const outcome = outcomeOf(entry, expected.options);
        expect(describeOutcome(outcome)).toBe(describeOutcome(expected.here(entry)));
        return;
      }
      const outcome = outcomeOf(entry, expected.options);
      expect(meets(outcome, expected.expectation), describeOutcome(outcome)).toBe(true);
      const reason = reasonOf(outcome);
      if (reason !== undefined) expect(reason).toMatch(ROLE_FAULTS[`${name(entry)}@${role}`] ?? FAULTS[name(entry)] ?? /^$/);
      if (outcome.kind === 'answered' && /with Allow/.test(behaviour)) {
        expect(outcome.headers.map((h) => h.name)).toContain('Allow');
      }
    });
  }
});

const ROLE_FAULTS: Readonly<Record<string, RegExp>> = {
  'intmeth@uas': /^method !interesting-Method0123456789_\*\+`\.%indeed'~ is not implemented$/,
  'esc02@uas': /^method RE%47IST%45R is not implemented$/,
  'unksm2@registrar': /^To of a REGISTER must hold a SIP or SIPS URI, not isbn:$/,
  'zeromf@proxy': /^Max-Forwards is 0$/,
  'regaut01@endpoint': /^REGISTER is not allowed here$/,
};

const PROXY: RequestCheckOptions = { role: 'proxy' };
const ENDPOINT: RequestCheckOptions = { ...UAS, methods: DEFAULT_METHODS.filter((method) => method !== 'REGISTER') };

type RoleExpectation =
  | { readonly kind: 'checked'; readonly options: RequestCheckOptions | undefined; readonly expectation: string }
  | { readonly kind: 'elsewhere'; readonly options: RequestCheckOptions | undefined; readonly here: (entry: Entry) => Outcome };

/** The manifest's role names and behaviour texts, mapped onto what this layer does. */
function roleExpectation(role: string, behaviour: string): RoleExpectation {
  const options: Record<string, RequestCheckOptions | undefined> = {
    proxy: PROXY,
    uas: UAS,
    registrar: REGISTRAR,
    'registrar-no-auth': REGISTRAR,
    'registrar-with-auth': REGISTRAR,
    endpoint: ENDPOINT,
    udp: undefined,
    stream: undefined,
  };
  if (!(role in options)) throw new Error(`role '${role}' is not mapped by this test`);
  const chosen = options[role];
  if (role === 'registrar-with-auth') {
    // The 401 challenge is auth/'s answer; checkRequest must let the REGISTER through to it.
    return { kind: 'elsewhere', options: chosen, here: (entry) => outcomeOf(entry, undefined) };
  }
  if (role === 'stream') {
    // Waiting for more octets and closing the connection is framing/'s job; a datagram is refused.
    return { kind: 'elsewhere', options: chosen, here: (entry) => ({ kind: 'refused', error: parse(entry) as SipParseError }) };
  }
  const respond = /^(respond-\d{3}|reject-400)\b/.exec(behaviour);
  if (respond) return { kind: 'checked', options: chosen, expectation: respond[1]! };
  if (/^(process normally|forward)/.test(behaviour)) return { kind: 'checked', options: chosen, expectation: 'parse' };
  throw new Error(`behaviour '${behaviour}' is not understood by this test`);
}

describe('a request the element may not process', () => {
  it('is still answerable when it lacks the headers a response copies (RFC 4475 §3.3.1)', () => {
    const insuf = manifest.find((entry) => entry.file === 'semantic/insuf.dat')!;
    const message = parse(insuf) as SipRequest;
    const answer = createResponse(message, 400);
    expect(hasHeader(answer, 'Via')).toBe(true);
    expect(hasHeader(answer, 'Call-ID')).toBe(false);
  });
});
