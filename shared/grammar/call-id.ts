/**
 * callid = word [ "@" word ] (RFC 3261 §20.8, §25.1). `word` allows many characters that carry
 * meaning elsewhere (`%`, `"`, `<>`, `[]`); in a Call-ID they are only characters
 * (RFC 4475 §3.1.1.2).
 */
import { isWordChar } from './char-class.ts';
import { SipSyntaxError } from './syntax-error.ts';

/** The Call-ID itself, checked; compare Call-IDs byte for byte (RFC 3261 §20.8: case-sensitive). */
export function parseCallId(text: string): string {
  let at = -1;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 64 && at < 0) at = i;
    else if (!isWordChar(c)) {
      throw new SipSyntaxError(`Call-ID '${text}' contains '${text[i]}', which is not a word character`);
    }
  }
  if (text.length === 0 || at === 0 || at === text.length - 1) {
    throw new SipSyntaxError(`Call-ID '${text}' is not word [ "@" word ]`);
  }
  return text;
}
