/**
 * The one error the message layer throws when a message, or a header value asked for, is not
 * well formed. It extends the grammar's `SipSyntaxError`, so catching either class catches every
 * parse failure of the stack.
 */
import { SipSyntaxError } from '../grammar/syntax-error.ts';
import type { SipMessage } from './message.ts';

export interface SipParseErrorOptions {
  readonly response?: number;
  readonly partial?: SipMessage;
  readonly cause?: unknown;
}

export class SipParseError extends SipSyntaxError {
  /**
   * The status a server should answer with (400 for a malformed request, RFC 3261 §21.4.1).
   * Absent for responses, which are never answered (RFC 3261 §18.1.2: the receiver drops them).
   */
  readonly response?: number;
  /**
   * What parsed before the fault, so that an element can still answer: the start line and every
   * well-formed header line, raw. Absent when not even the start line could be read.
   */
  readonly partial?: SipMessage;

  constructor(reason: string, options: SipParseErrorOptions = {}) {
    super(reason, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'SipParseError';
    this.response = options.response;
    this.partial = options.partial;
  }
}
