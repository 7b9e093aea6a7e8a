/**
 * The auth-param list shared by every authentication header (RFC 3261 §25.1, RFC 7235 §2.1):
 *
 *   challenge   = auth-scheme LWS auth-param *(COMMA auth-param)
 *   auth-param  = token EQUAL ( token / quoted-string )
 *
 * This layer knows nothing about Digest: it splits a header value into schemes and their
 * parameters, unescapes quoted strings, and writes them back. `digest-params.ts` gives the
 * parameters their meaning.
 */

/** The one error every parser in `auth/` throws. */
export class DigestParseError extends Error {
  override readonly name = 'DigestParseError';
  /** Offset in the header value where parsing gave up; -1 when the problem is not positional. */
  readonly offset: number;

  constructor(message: string, offset = -1) {
    super(message);
    this.offset = offset;
  }
}

/** One `name=value` pair as written: the name keeps its case, the value is unescaped. */
export interface AuthParam {
  readonly name: string;
  /** Unescaped value; `undefined` for a bare token with no `=` (tolerated, see `readParam`). */
  readonly value: string | undefined;
  /** Whether the value was (or should be) written as a quoted-string. */
  readonly quoted: boolean;
}

/** One challenge or credentials: a scheme and its parameters in wire order. */
export interface AuthItem {
  readonly scheme: string;
  readonly params: readonly AuthParam[];
}

// RFC 3261 §25.1: token characters. Anything else ends a token.
const TOKEN_CHAR = /[A-Za-z0-9\-.!%*_+`'~]/;

function isTokenChar(char: string | undefined): boolean {
  return char !== undefined && TOKEN_CHAR.test(char);
}

// RFC 3261 §25.1: LWS may contain a line fold; the message layer keeps folds as received.
function isLws(char: string | undefined): boolean {
  return char === ' ' || char === '\t' || char === '\r' || char === '\n';
}

class Cursor {
  readonly text: string;
  at = 0;

  constructor(text: string) {
    this.text = text;
  }

  // A method rather than a getter: the compiler would otherwise narrow it across `at += 1`.
  peek(): string | undefined {
    return this.text[this.at];
  }

  get done(): boolean {
    return this.at >= this.text.length;
  }

  skipLws(): void {
    while (isLws(this.peek())) this.at += 1;
  }

  token(): string {
    const start = this.at;
    while (isTokenChar(this.peek())) this.at += 1;
    return this.text.slice(start, this.at);
  }

  // RFC 3261 §25.1: quoted-pair = "\" (%x00-09 / %x0B-0C / %x0E-7F); the backslash is dropped.
  quoted(): string {
    const open = this.at;
    this.at += 1;
    let value = '';
    while (!this.done) {
      const char = this.text[this.at] ?? '';
      if (char === '"') {
        this.at += 1;
        return value;
      }
      if (char === '\\' && this.at + 1 < this.text.length) {
        value += this.text[this.at + 1];
        this.at += 2;
        continue;
      }
      value += char;
      this.at += 1;
    }
    throw new DigestParseError('unterminated quoted-string', open);
  }

  // Real servers write `uri=sip:alice@example.com` or `algorithm=SHA-256` without quotes; accept
  // any run up to the next separator rather than insisting on token characters.
  bare(): string {
    const start = this.at;
    while (this.peek() !== undefined && this.peek() !== ',' && this.peek() !== '"' && !isLws(this.peek())) this.at += 1;
    return this.text.slice(start, this.at);
  }
}

function readParam(cursor: Cursor, name: string): AuthParam {
  cursor.skipLws();
  if (cursor.peek() !== '=') return { name, value: undefined, quoted: false };
  cursor.at += 1;
  cursor.skipLws();
  if (cursor.peek() === '"') return { name, value: cursor.quoted(), quoted: true };
  const value = cursor.bare();
  if (value === '') throw new DigestParseError(`parameter "${name}" has no value`, cursor.at);
  return { name, value, quoted: false };
}

/**
 * Splits a header value into its challenges or credentials. RFC 7235 §4.1 lets one field carry
 * several challenges (`Digest realm="a", nonce="1", Digest realm="b", ...`); a new scheme is
 * recognised where a list element is a token followed by whitespace and another token instead of `=`.
 * Empty list elements (`a=1,,b=2`) are skipped, as RFC 7230 §7 asks of recipients.
 */
export function parseAuthItems(value: string): AuthItem[] {
  const cursor = new Cursor(value);
  const items: { scheme: string; params: AuthParam[] }[] = [];
  while (cursor.peek() === ',' || isLws(cursor.peek())) cursor.at += 1;
  while (!cursor.done) {
    const name = cursor.token();
    if (name === '') throw new DigestParseError(`unexpected character ${JSON.stringify(cursor.peek())}`, cursor.at);
    const afterName = cursor.at;
    cursor.skipLws();
    const startsScheme = items.length === 0 || (cursor.at > afterName && isTokenChar(cursor.peek()));
    const current = items.at(-1);
    if (startsScheme || current === undefined) {
      items.push({ scheme: name, params: [] });
    } else {
      cursor.at = afterName;
      current.params.push(readParam(cursor, name));
      cursor.skipLws();
      if (!cursor.done && cursor.peek() !== ',') {
        throw new DigestParseError(`expected "," after parameter "${name}"`, cursor.at);
      }
    }
    while (cursor.peek() === ',' || isLws(cursor.peek())) cursor.at += 1;
  }
  if (items.length === 0) throw new DigestParseError('empty header value', 0);
  return items;
}

function quote(value: string): string {
  // RFC 3261 §25.1: CR and LF cannot be escaped inside a quoted-string; writing them would split
  // the header field, so refuse rather than emit a message another element parses differently.
  if (/[\r\n]/.test(value)) throw new RangeError('a quoted-string cannot carry CR or LF');
  return `"${value.replace(/[\\"]/g, (char) => `\\${char}`)}"`;
}

/**
 * Writes one scheme and its parameters. A value meant to go bare is quoted anyway when it could not
 * be read back bare (empty, or holding a separator), so what is written always parses to the same.
 */
export function serializeAuthItem(item: AuthItem): string {
  const params = item.params.map((param) => {
    if (param.value === undefined) return param.name;
    const bare = !param.quoted && /^[^\s,"]+$/.test(param.value);
    return `${param.name}=${bare ? param.value : quote(param.value)}`;
  });
  return params.length === 0 ? item.scheme : `${item.scheme} ${params.join(', ')}`;
}
