/**
 * Errors of the control API as RFC 9457 problem documents: a title, the status, a detail a person
 * can act on, and `reason`, a stable token the edge can switch on (`no-common-codec` becomes a SIP
 * 488, `at-capacity` sends the call to another node, ...).
 */
import { BrowserLegError } from '../browser-leg/index.ts';
import { PortRangeExhaustedError } from '../pbx-leg/index.ts';
import { DtmfQueueFullError, MediaSessionError } from '../relay/index.ts';

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

export interface Problem {
  readonly type: string;
  readonly title: string;
  readonly status: number;
  readonly detail: string;
  readonly reason: string;
  /** For invalid input: each offending field, as a JSON Pointer into the body. */
  readonly errors?: readonly { readonly pointer: string; readonly detail: string }[];
}

export class ControlError extends Error {
  override readonly name = 'ControlError';
  readonly status: number;
  readonly title: string;
  readonly reason: string;
  readonly errors: Problem['errors'];
  readonly headers: Readonly<Record<string, string>>;

  constructor(status: number, reason: string, title: string, detail: string, extra: { errors?: Problem['errors']; headers?: Readonly<Record<string, string>> } = {}) {
    super(detail);
    this.status = status;
    this.reason = reason;
    this.title = title;
    this.errors = extra.errors;
    this.headers = extra.headers ?? {};
  }

  toProblem(): Problem {
    return {
      type: 'about:blank',
      title: this.title,
      status: this.status,
      detail: this.message,
      reason: this.reason,
      ...(this.errors === undefined ? {} : { errors: this.errors }),
    };
  }
}

export function notFound(what: string): ControlError {
  return new ControlError(404, 'not-found', 'Not found', what);
}

/** The control error for what a media session (or opening one) threw; undefined for a bug. */
export function sessionFailure(error: unknown): ControlError | undefined {
  if (error instanceof ControlError) return error;
  if (error instanceof BrowserLegError) {
    switch (error.reason) {
      case 'bad-sdp':
        return new ControlError(400, 'bad-browser-sdp', 'Invalid browser SDP', error.message);
      case 'wrong-state':
        return new ControlError(409, 'wrong-state', 'Wrong session state', error.message);
      default:
        return new ControlError(422, error.reason, 'Browser SDP not acceptable', error.message);
    }
  }
  if (error instanceof MediaSessionError) {
    switch (error.reason) {
      case 'bad-pbx-sdp':
        return new ControlError(400, 'bad-pbx-sdp', 'Invalid PBX SDP', error.message);
      case 'wrong-state':
        return new ControlError(409, 'wrong-state', 'Wrong session state', error.message);
      case 'no-telephone-event':
        return new ControlError(409, 'no-telephone-event', 'No telephone-event toward the PBX', error.message);
      default:
        return new ControlError(422, error.reason, 'PBX SDP not acceptable', error.message);
    }
  }
  if (error instanceof DtmfQueueFullError) return new ControlError(409, 'dtmf-queue-full', 'DTMF queue full', error.message);
  if (error instanceof PortRangeExhaustedError) {
    return new ControlError(503, 'no-rtp-ports', 'No RTP port free', error.message, { headers: { 'Retry-After': '1' } });
  }
  return undefined;
}
