/**
 * fast-check arbitraries for the pieces of SIP text (RFC 3261 §25, RFC 3966 for tel URIs).
 *
 * Each structured arbitrary yields the text as it goes on the wire together with the values a
 * typed accessor should read back from it, so properties can check both the round trip and the
 * typed views. Character sets are written out from the ABNF so that a reader can check them.
 */

import fc from 'fast-check';

const DIGIT = '0123456789';
const ALPHA = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ';
const ALPHANUM = ALPHA + DIGIT;
const HEX = '0123456789ABCDEFabcdef';
/** RFC 3261 §25.1: token characters besides alphanum. */
const TOKEN_MARKS = "-.!%*_+`'~";
/** RFC 3261 §25.1: unreserved = alphanum / mark. */
const UNRESERVED = `${ALPHANUM}-_.!~*'()`;
/** RFC 3261 §25.1: user-unreserved. */
const USER_UNRESERVED = '&=+$,;?/';
/** RFC 3261 §25.1: param-unreserved. */
const PARAM_UNRESERVED = '[]/:&+$';
/** RFC 3261 §25.1: hnv-unreserved (URI headers). */
const HNV_UNRESERVED = '[]/?:+$';
/** RFC 3261 §25.1: word characters besides alphanum (Call-ID). */
const WORD_MARKS = `-.!%*_+\`'~()<>:\\"/[]?{}`;
/** Non-ASCII text that UTF8-NONASCII allows: Latin, CJK, RTL and astral-plane characters. */
const UTF8_SAMPLES = ['é', 'ß', 'Å', 'ø', 'ñ', '東', '京', '한', 'ע', 'ي', 'Ω', '€', '😀', '🎉', '\u00a0'];

const chars = (set: string): fc.Arbitrary<string> => fc.constantFrom(...set.split(''));

function stringOf(unit: fc.Arbitrary<string>, minLength: number, maxLength: number): fc.Arbitrary<string> {
  return fc.string({ unit, minLength, maxLength });
}

/** `%HH`, which many URI components accept in place of a character. */
export const escapedArb: fc.Arbitrary<string> = fc.tuple(chars(HEX), chars(HEX)).map(([a, b]) => `%${a}${b}`);

/** RFC 3261 §25.1 token. */
export function tokenArb(maxLength = 12): fc.Arbitrary<string> {
  return stringOf(chars(ALPHANUM + TOKEN_MARKS), 1, maxLength);
}

const STANDARD_METHODS = [
  'INVITE', 'ACK', 'BYE', 'CANCEL', 'REGISTER', 'OPTIONS', 'INFO', 'UPDATE',
  'PRACK', 'SUBSCRIBE', 'NOTIFY', 'PUBLISH', 'MESSAGE', 'REFER',
] as const;

/** RFC 3261 §7.1: a method is case-sensitive, and any token is an extension method. */
export const methodArb: fc.Arbitrary<string> = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...STANDARD_METHODS) },
  { weight: 1, arbitrary: tokenArb(16) },
);

const labelArb = fc.oneof(
  stringOf(chars(ALPHANUM), 1, 10),
  fc.tuple(chars(ALPHANUM), stringOf(chars(`${ALPHANUM}-`), 0, 8), chars(ALPHANUM)).map((p) => p.join('')),
);

/** RFC 3261 §25.1 hostname: labels, a top label starting with a letter, maybe a final dot. */
const hostnameArb = fc
  .tuple(fc.array(labelArb, { maxLength: 3 }), chars(ALPHA), stringOf(chars(`${ALPHANUM}-`), 0, 6), chars(ALPHANUM), fc.boolean())
  .map(([labels, first, middle, last, dot]) => [...labels, `${first}${middle}${last}`].join('.') + (dot ? '.' : ''));

/** A host as written in a URI or Via: hostname, IPv4, or bracketed IPv6 reference. */
export const hostArb: fc.Arbitrary<string> = fc.oneof(
  { weight: 3, arbitrary: hostnameArb },
  { weight: 2, arbitrary: fc.ipV4() },
  { weight: 2, arbitrary: fc.ipV6().map((address) => `[${address}]`) },
);

export const portArb: fc.Arbitrary<number> = fc.integer({ min: 0, max: 65535 });

const paramCharArb = fc.oneof(
  { weight: 8, arbitrary: chars(UNRESERVED + PARAM_UNRESERVED) },
  { weight: 1, arbitrary: escapedArb },
);

/** RFC 3261 §19.1.1 uri-parameter: well-known ones and `pname[=pvalue]`. */
const uriParamArb = fc.oneof(
  fc.constantFrom(';lr', ';ob', ';user=phone', ';transport=tcp', ';transport=ws', ';transport=TLS', ';method=INVITE'),
  hostArb.map((host) => `;maddr=${host}`),
  fc
    .tuple(stringOf(paramCharArb, 1, 8), fc.option(stringOf(paramCharArb, 1, 10)))
    .map(([name, value]) => (value === null ? `;${name}` : `;${name}=${value}`)),
);

const userArb = stringOf(
  fc.oneof({ weight: 8, arbitrary: chars(UNRESERVED + USER_UNRESERVED) }, { weight: 1, arbitrary: escapedArb }),
  1,
  16,
);

const passwordArb = stringOf(
  fc.oneof({ weight: 8, arbitrary: chars(`${UNRESERVED}&=+$,`) }, { weight: 1, arbitrary: escapedArb }),
  0,
  8,
);

const uriHeaderArb = fc
  .tuple(
    stringOf(chars(UNRESERVED + HNV_UNRESERVED), 1, 8),
    stringOf(fc.oneof(chars(UNRESERVED + HNV_UNRESERVED), escapedArb), 0, 10),
  )
  .map(([name, value]) => `${name}=${value}`);

/**
 * A sip: or sips: URI (RFC 3261 §19.1.1) with user, password, port and parameters, and with URI
 * headers only where they are allowed: RFC 3261 §19.1.1 Table 1 forbids headers (and the `method`
 * parameter) in a Request-URI.
 */
function sipUriArbWith(place: 'request-uri' | 'header'): fc.Arbitrary<string> {
  const params = place === 'header' ? uriParamArb : uriParamArb.filter((param) => !param.startsWith(';method='));
  return fc
    .record({
      scheme: fc.constantFrom('sip', 'sips'),
      user: fc.option(fc.tuple(userArb, fc.option(passwordArb))),
      host: hostArb,
      port: fc.option(portArb),
      params: fc.array(params, { maxLength: 4 }),
      headers: place === 'header' ? fc.array(uriHeaderArb, { maxLength: 2 }) : fc.constant([]),
    })
    .map(({ scheme, user, host, port, params, headers }) => {
      const userinfo = user === null ? '' : `${user[0]}${user[1] === null ? '' : `:${user[1]}`}@`;
      const hostport = port === null ? host : `${host}:${port}`;
      const query = headers.length === 0 ? '' : `?${headers.join('&')}`;
      return `${scheme}:${userinfo}${hostport}${params.join('')}${query}`;
    });
}

export const sipUriArb: fc.Arbitrary<string> = sipUriArbWith('header');

const phonedigitArb = fc.oneof({ weight: 4, arbitrary: chars(DIGIT) }, { weight: 1, arbitrary: chars('-.()') });

/** A tel: URI (RFC 3966 §3): global number, or local number with phone-context. */
export const telUriArb: fc.Arbitrary<string> = fc
  .record({
    global: fc.boolean(),
    digits: fc.tuple(stringOf(phonedigitArb, 0, 6), chars(DIGIT), stringOf(phonedigitArb, 0, 8)),
    context: fc.oneof(hostnameArb, stringOf(chars(DIGIT), 1, 4).map((d) => `+${d}`)),
    ext: fc.option(stringOf(chars(DIGIT), 1, 5)),
  })
  .map(({ global, digits, context, ext }) => {
    const number = digits.join('');
    const extension = ext === null ? '' : `;ext=${ext}`;
    return global ? `tel:+${number}${extension}` : `tel:${number}${extension};phone-context=${context}`;
  });

/** RFC 3261 §25.1: reserved characters, allowed raw in an absoluteURI's opaque part. */
const RESERVED = ';/?:@&=+$,';

/**
 * Any other scheme (RFC 3261 §25.1 absoluteURI; RFC 4475 §3.3.2 sends one in a Request-URI):
 * an opaque part (`urn:service:sos`, `im:bob@example.com`) or a hierarchical one (`http://...`).
 */
export const absoluteUriArb: fc.Arbitrary<string> = fc.oneof(
  fc
    .tuple(
      fc.constantFrom('urn', 'im', 'pres', 'mailto', 'x-custom+v1.2'),
      // uric-no-slash first, then any uric.
      fc.oneof(chars(UNRESERVED + RESERVED.replace('/', '')), escapedArb),
      stringOf(fc.oneof({ weight: 8, arbitrary: chars(UNRESERVED + RESERVED) }, { weight: 1, arbitrary: escapedArb }), 0, 20),
    )
    .map(([scheme, first, rest]) => `${scheme}:${first}${rest}`),
  fc
    .tuple(fc.constantFrom('http', 'https'), hostnameArb, stringOf(chars(`${UNRESERVED}/;=`), 0, 16))
    .map(([scheme, host, path]) => `${scheme}://${host}/${path}`),
);

/** A URI as it appears in a header (From, To, Contact, Route). */
export const uriArb: fc.Arbitrary<string> = fc.oneof(
  { weight: 8, arbitrary: sipUriArb },
  { weight: 2, arbitrary: telUriArb },
  { weight: 1, arbitrary: absoluteUriArb },
);

/** A URI as it may appear in a Request-Line. */
export const requestUriArb: fc.Arbitrary<string> = fc.oneof(
  { weight: 8, arbitrary: sipUriArbWith('request-uri') },
  { weight: 2, arbitrary: telUriArb },
  { weight: 1, arbitrary: absoluteUriArb },
);

/** A quoted-string's content and its wire form (RFC 3261 §25.1: qdtext and quoted-pair). */
export interface QuotedText {
  /** The text a reader sees, escapes removed. */
  readonly text: string;
  /** The text between the quotes as written, with `\"` and `\\` escapes (and some gratuitous ones). */
  readonly wire: string;
}

const QDTEXT_ASCII = Array.from({ length: 0x7e - 0x20 + 1 }, (_, i) => String.fromCharCode(0x20 + i))
  .filter((c) => c !== '"' && c !== '\\')
  .join('');

const quotedUnitArb: fc.Arbitrary<QuotedText> = fc.oneof(
  { weight: 10, arbitrary: chars(QDTEXT_ASCII).map((c) => ({ text: c, wire: c })) },
  { weight: 2, arbitrary: fc.constantFrom(...UTF8_SAMPLES).map((c) => ({ text: c, wire: c })) },
  { weight: 2, arbitrary: fc.constantFrom('"', '\\').map((c) => ({ text: c, wire: `\\${c}` })) },
  // A quoted-pair may escape any character but CR and LF; `\a` means `a`.
  { weight: 1, arbitrary: chars(ALPHANUM + '<>,;').map((c) => ({ text: c, wire: `\\${c}` })) },
);

export const quotedTextArb: fc.Arbitrary<QuotedText> = fc
  .array(quotedUnitArb, { maxLength: 16 })
  .map((units) => ({ text: units.map((u) => u.text).join(''), wire: units.map((u) => u.wire).join('') }));

/** A display name, quoted or as space-separated tokens, with what a reader should see. */
export interface DisplayName {
  readonly text: string;
  readonly wire: string;
}

export const displayNameArb: fc.Arbitrary<DisplayName> = fc.oneof(
  quotedTextArb.map((quoted) => ({ text: quoted.text, wire: `"${quoted.wire}"` })),
  fc.array(tokenArb(8), { minLength: 1, maxLength: 3 }).map((tokens) => ({ text: tokens.join(' '), wire: tokens.join(' ') })),
);

/** RFC 3261 §7.3.1: header parameters, `;name=token`, `;name="quoted"`, or a bare `;flag`. */
export const genericParamArb: fc.Arbitrary<string> = fc.oneof(
  fc.tuple(tokenArb(8), fc.option(tokenArb(12))).map(([name, value]) => (value === null ? `;${name}` : `;${name}=${value}`)),
  fc.tuple(tokenArb(8), quotedTextArb).map(([name, value]) => `;${name}="${value.wire}"`),
  hostArb.map((host) => `;x-host=${host}`),
);

/**
 * RFC 3261 §25.1 SWS around separators (SEMI, EQUAL, SLASH, COLON, LAQUOT): usually nothing, at
 * times spaces, tabs or a fold. Senders do write `SIP / 2.0 / UDP` and `;tag = x`, and a parser
 * must read the same values through them.
 */
export const swsArb: fc.Arbitrary<string> = fc.oneof(
  { weight: 30, arbitrary: fc.constant('') },
  { weight: 1, arbitrary: fc.constantFrom(' ', '\t', '  ', '\r\n ', '\r\n\t', ' \r\n  ') },
);

/** LWS where at least some whitespace is required, e.g. between the transport and the sent-by. */
const lwsArb: fc.Arbitrary<string> = fc.oneof(
  { weight: 8, arbitrary: fc.constant(' ') },
  { weight: 1, arbitrary: fc.constantFrom('\t', '  ', '\r\n ', ' \r\n\t') },
);

/** `;name=value` with optional SWS around the `;` and the first `=`. */
function spacedParamArb(param: string): fc.Arbitrary<string> {
  return fc.tuple(swsArb, swsArb, swsArb, swsArb).map(([beforeSemi, afterSemi, beforeEq, afterEq]) => {
    const body = param.slice(1);
    const eq = body.indexOf('=');
    const spaced = eq < 0 ? body : `${body.slice(0, eq)}${beforeEq}=${afterEq}${body.slice(eq + 1)}`;
    return `${beforeSemi};${afterSemi}${spaced}`;
  });
}

function spacedParamsArb(params: readonly string[]): fc.Arbitrary<string> {
  return fc.tuple(...params.map(spacedParamArb)).map((spaced) => spaced.join(''));
}

/** A From/To/Contact value and what its typed view should say. */
export interface NameAddrModel {
  readonly wire: string;
  readonly displayName: string | undefined;
  readonly uri: string;
  readonly tag: string | undefined;
}

/**
 * RFC 3261 §20.10/§20.20: `[display-name] <uri>;params` or a bare addr-spec. A bare addr-spec may
 * not contain `,`, `;` or `?` (they would be read as header parameters), so such URIs keep the brackets.
 */
export const nameAddrArb: fc.Arbitrary<NameAddrModel> = fc
  .record({
    display: fc.option(displayNameArb),
    uri: uriArb,
    bracketed: fc.boolean(),
    tag: fc.option(tokenArb(16)),
    params: fc.array(genericParamArb.filter((p) => !/^;tag(=|$)/i.test(p)), { maxLength: 2 }),
    gap: lwsArb,
  })
  .chain(({ display, uri, bracketed, tag, params, gap }) => {
    const bare = display === null && !bracketed && !/[;,?]/.test(uri);
    const addr = bare ? uri : `${display === null ? '' : `${display.wire}${gap}`}<${uri}>`;
    const allParams = [...(tag === null ? [] : [`;tag=${tag}`]), ...params];
    return spacedParamsArb(allParams).map((paramText) => ({
      wire: `${addr}${paramText}`,
      displayName: display === null ? undefined : display.text,
      uri,
      tag: tag ?? undefined,
    }));
  });

/** One Via value and its typed view (RFC 3261 §20.42, RFC 3581 rport). */
export interface ViaModel {
  readonly wire: string;
  readonly transport: string;
  readonly host: string;
  readonly port: number | undefined;
  readonly branch: string;
  readonly received: string | undefined;
  /** `true` for a bare `;rport` (a request for it), a number once filled in. */
  readonly rport: number | true | undefined;
}

export const viaArb: fc.Arbitrary<ViaModel> = fc
  .record({
    transport: fc.oneof(fc.constantFrom('UDP', 'TCP', 'TLS', 'SCTP', 'WS', 'WSS'), tokenArb(6)),
    host: hostArb,
    port: fc.option(portArb),
    branch: tokenArb(20).map((suffix) => `z9hG4bK${suffix}`),
    received: fc.option(fc.oneof(fc.ipV4(), fc.ipV6())),
    rport: fc.option(fc.oneof(fc.constant(true as const), portArb)),
    extra: fc.array(genericParamArb.filter((p) => !/^;(branch|received|rport)(=|$)/i.test(p)), { maxLength: 2 }),
    // RFC 3261 §25.1: SLASH and COLON = SWS "/" SWS and SWS ":" SWS; LWS before the sent-by.
    slashes: fc.tuple(swsArb, swsArb, swsArb, swsArb),
    colon: fc.tuple(swsArb, swsArb),
    gap: lwsArb,
  })
  .chain(({ transport, host, port, branch, received, rport, extra, slashes, colon, gap }) => {
    const sentBy = port === null ? host : `${host}${colon[0]}:${colon[1]}${port}`;
    const params = [
      `;branch=${branch}`,
      ...(received === null ? [] : [`;received=${received}`]),
      ...(rport === null ? [] : [rport === true ? ';rport' : `;rport=${rport}`]),
      ...extra,
    ];
    const [a, b, c, d] = slashes;
    return spacedParamsArb(params).map((paramText) => ({
      wire: `SIP${a}/${b}2.0${c}/${d}${transport}${gap}${sentBy}${paramText}`,
      transport,
      host,
      port: port ?? undefined,
      branch,
      received: received ?? undefined,
      rport: rport ?? undefined,
    }));
  });

/** RFC 3261 §20.16: CSeq sequence numbers are below 2**31. */
export const cseqNumberArb: fc.Arbitrary<number> = fc.oneof(
  fc.integer({ min: 0, max: 100 }),
  fc.integer({ min: 0, max: 2 ** 31 - 1 }),
);

/** RFC 3261 §25.1 callid = word [ "@" word ], where word allows `<`, `"`, `\` and other odd marks. */
export const callIdArb: fc.Arbitrary<string> = fc
  .tuple(stringOf(chars(ALPHANUM + WORD_MARKS), 1, 24), fc.option(stringOf(chars(ALPHANUM + WORD_MARKS), 1, 16)))
  .map(([local, host]) => (host === null ? local : `${local}@${host}`));

/**
 * An extension header value: TEXT-UTF8 words with inner whitespace, quotes, commas, angle brackets,
 * backslashes and UTF-8; no leading or trailing whitespace (the parser trims it, RFC 3261 §7.3.1).
 */
export const oddValueArb: fc.Arbitrary<string> = fc
  .array(
    fc.oneof(
      { weight: 6, arbitrary: stringOf(chars(ALPHANUM), 1, 6) },
      { weight: 3, arbitrary: chars('"<>,;=\\:@/?()[]{}!#$%&*+\'`~|^') },
      { weight: 2, arbitrary: fc.constantFrom(...UTF8_SAMPLES.filter((c) => c !== '\u00a0')) },
    ),
    { minLength: 0, maxLength: 12 },
  )
  .chain((words) =>
    // Folds (CRLF then whitespace) are kept as received, so they must survive a round trip too.
    fc.array(fc.constantFrom('', '', '', ' ', ' ', '\t', '  ', '\r\n ', '\r\n\t'), {
      minLength: words.length,
      maxLength: words.length,
    }).map((gaps) =>
      words.map((word, i) => (i === 0 ? word : `${gaps[i] ?? ''}${word}`)).join(''),
    ),
  );

/** A name for an extension header that cannot collide with a header the stack knows. */
export const extensionHeaderNameArb: fc.Arbitrary<string> = fc
  .tuple(fc.constantFrom('X-', 'x-', 'P-', 'Unk-'), tokenArb(12))
  .map(([prefix, name]) => `${prefix}${name}`);

/** The ways one header name can be spelled: case varies, and some have a compact form (RFC 3261 §7.3.3). */
export function headerNameArb(long: string, compact?: string): fc.Arbitrary<string> {
  const spellings = [long, long.toLowerCase(), long.toUpperCase()];
  if (compact !== undefined) spellings.push(compact, compact.toUpperCase());
  return fc.constantFrom(...spellings);
}

/** Status codes 100-699 (RFC 3261 §7.2), weighted towards the ones seen every day. */
export const statusArb: fc.Arbitrary<number> = fc.oneof(
  fc.constantFrom(100, 180, 183, 200, 202, 401, 403, 404, 407, 408, 480, 486, 487, 488, 500, 503, 603),
  fc.integer({ min: 100, max: 699 }),
);

/** RFC 3261 §25.1 Reason-Phrase: printable text, UTF-8 and inner spaces; may be empty. */
export const reasonPhraseArb: fc.Arbitrary<string> = fc
  .array(
    fc.oneof(
      stringOf(chars(ALPHANUM), 1, 8),
      // reserved / unreserved / escaped: `%` only as the start of an escape.
      chars(`${UNRESERVED};/?:@&=+$,`),
      escapedArb,
      fc.constantFrom(...UTF8_SAMPLES.filter((c) => c !== '\u00a0')),
    ),
    { maxLength: 5 },
  )
  .map((words) => words.join(' '));
