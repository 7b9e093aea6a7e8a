/**
 * The structural rules every session description obeys, checked on parse and again on serialise so
 * that no helper can emit a description a PBX would refuse.
 *
 * RFC 8866 §5: `v=`, `o=`, `s=` and `t=` are mandatory; every `m=` line names a media type, a
 * port, a protocol and at least one format; and every media section has a connection address, its
 * own or the session's (RFC 8866 §5.7).
 */

import { SdpError } from './sdp-error.ts';
import type { SdpSession } from './session.ts';

/** Where the lines were in the text, so errors found on parse can point at them. */
export interface LineIndex {
  readonly origin?: number;
  readonly timing?: number;
  readonly media: readonly number[];
}

const DIGITS = /^\d+$/;

export function validateSession(session: SdpSession, lines: LineIndex = { media: [] }): void {
  if (session.version !== 0) {
    throw new SdpError('unsupported-version', `unsupported SDP version ${String(session.version)}: RFC 8866 defines v=0`, { line: 1 });
  }
  const { origin } = session;
  if (
    origin === undefined ||
    !DIGITS.test(origin.sessionId) ||
    !DIGITS.test(origin.sessionVersion) ||
    origin.username === '' ||
    origin.netType === '' ||
    origin.address === ''
  ) {
    throw new SdpError('invalid-origin', 'missing or malformed o= line (RFC 8866 §5.2)', at(lines.origin));
  }
  if (typeof session.name !== 'string') {
    throw new SdpError('missing-session-name', 'missing s= line (RFC 8866 §5.3)');
  }
  const { timing } = session;
  if (timing === undefined || !Number.isSafeInteger(timing.start) || !Number.isSafeInteger(timing.stop)) {
    throw new SdpError('invalid-timing', 'missing or malformed t= line (RFC 8866 §5.9)', at(lines.timing));
  }
  session.media.forEach((media, index) => {
    const where = at(lines.media[index]);
    if (
      typeof media.type !== 'string' ||
      !/^[A-Za-z0-9_-]+$/.test(media.type) ||
      !Number.isInteger(media.port) ||
      media.port < 0 ||
      media.port > 65_535 ||
      typeof media.protocol !== 'string' ||
      media.protocol === '' ||
      typeof media.payloads !== 'string' ||
      media.payloads.trim() === ''
    ) {
      throw new SdpError('invalid-media', `media section ${String(index)} has a malformed m= line (RFC 8866 §5.14)`, where);
    }
    const connection = media.connection ?? session.connection;
    if (connection === undefined || typeof connection.ip !== 'string' || connection.ip === '') {
      throw new SdpError('missing-connection', `media section ${String(index)} has no c= line, nor has the session (RFC 8866 §5.7)`, where);
    }
  });
}

/** Throws `SdpError` unless `port` is a transport port, 0-65535. */
export function assertPort(port: number): void {
  if (!Number.isInteger(port) || port < 0 || port > 65_535) {
    throw new SdpError('invalid-argument', `port ${String(port)} is not in 0-65535`);
  }
}

function at(line: number | undefined): { line?: number } {
  return line === undefined ? {} : { line };
}
