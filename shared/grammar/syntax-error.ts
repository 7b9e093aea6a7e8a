/**
 * The one error the grammar throws (RFC 3261 §25 is the grammar it checks).
 *
 * The grammar sits below the message model, so this class knows nothing of messages; the message
 * layer's `SipParseError` extends it with the status an element should answer and what parsed
 * before the fault. `instanceof SipSyntaxError` therefore catches every parse failure of the stack.
 */
export class SipSyntaxError extends Error {
  /** A short human reason that names the fault, e.g. "Via: empty parameter after ';'". */
  readonly reason: string;

  constructor(reason: string, options?: { cause?: unknown }) {
    super(reason, options);
    this.name = 'SipSyntaxError';
    this.reason = reason;
  }
}
