/**
 * The one error class of the SDP layer.
 *
 * A B2BUA answers an unusable session description with 488 Not Acceptable Here (RFC 3261 §13.3.1.1,
 * RFC 3264 §6); the reason says why, for the trace and for the Warning header, without parsing a
 * message string.
 */

/**
 * Why a session description, or a value meant to go into one, was refused.
 *
 * - `empty`: no lines at all.
 * - `not-sdp`: a line that is not `<letter>=<value>` (RFC 8866 §5), so the body is not SDP.
 * - `unsupported-version`: `v=` missing, not first, or not `0` (RFC 8866 §5.1).
 * - `invalid-origin`: `o=` missing or malformed (RFC 8866 §5.2).
 * - `missing-session-name`: no `s=` line (RFC 8866 §5.3).
 * - `invalid-timing`: `t=` missing or malformed (RFC 8866 §5.9).
 * - `invalid-media`: an `m=` line without media, port, protocol or formats (RFC 8866 §5.14).
 * - `missing-connection`: a media section with no `c=` of its own or at session level (RFC 8866 §5.7).
 * - `invalid-attribute`: an attribute sipedge reads (rtpmap, fmtp, candidate, crypto, setup, ...)
 *   whose value does not follow its grammar.
 * - `invalid-argument`: a helper was asked for something impossible, such as a media section
 *   without any codec left.
 */
export type SdpErrorReason =
  | 'empty'
  | 'not-sdp'
  | 'unsupported-version'
  | 'invalid-origin'
  | 'missing-session-name'
  | 'invalid-timing'
  | 'invalid-media'
  | 'missing-connection'
  | 'invalid-attribute'
  | 'invalid-argument';

export class SdpError extends Error {
  override readonly name = 'SdpError';
  readonly reason: SdpErrorReason;
  /** 1-based line of the SDP text the error was found on, when it came from parsing text. */
  readonly line: number | undefined;

  constructor(reason: SdpErrorReason, message: string, options: { line?: number; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.reason = reason;
    this.line = options.line;
  }
}
