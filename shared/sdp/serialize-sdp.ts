/**
 * A typed session back to SDP text, on top of sdp-transform's writer.
 *
 * The output uses CRLF line ends (RFC 8866 §5: "the sequence CRLF (0x0d0a) is used to end a line")
 * and RFC 8866's line order. Three things are written here rather than by sdp-transform: the `o=`
 * line, whose session id and version may exceed 2^53 and would lose digits through a JavaScript
 * number; the `a=candidate` lines, whose extensions sdp-transform's writer does not know; and an
 * `a=msid` without appdata, which it would write with the word "undefined".
 */

import { write as writeText } from 'sdp-transform';
import type { MediaDescription, SessionDescription } from 'sdp-transform';
import { serializeCandidate } from './ice-candidate.ts';
import type { SdpMedia, SdpOrigin, SdpSession } from './session.ts';
import { validateSession } from './session-validation.ts';

/** Writes a session as SDP text. Throws `SdpError` when the session lacks a mandatory line. */
export function serializeSdp(session: SdpSession): string {
  validateSession(session);
  // sdp-transform's writer fills in defaults on the object it is given: hand it a copy.
  const { origin, media, ...rest } = structuredClone(session);
  const forWriter: SessionDescription = {
    ...withWritableMsid(rest as typeof rest & MsidCarrier),
    origin: { ...origin, sessionVersion: 0 },
    media: media.map(mediaForWriter),
  };
  const lines = writeText(forWriter).split('\r\n');
  const originAt = lines.findIndex((line) => line.startsWith('o='));
  lines[originAt] = originLine(origin);
  return lines.join('\r\n');
}

function originLine(origin: SdpOrigin): string {
  return `o=${origin.username} ${origin.sessionId} ${origin.sessionVersion} ${origin.netType} IP${String(origin.ipVer)} ${origin.address}`;
}

/**
 * Candidates travel as verbatim attributes, which the writer emits after the attributes it knows;
 * `a=end-of-candidates` (RFC 8840) follows them, closing the list.
 */
function mediaForWriter(media: SdpMedia): MediaDescription {
  const { candidates, endOfCandidates, ...rest } = media;
  const verbatim = (candidates ?? []).map((candidate) => ({ value: serializeCandidate(candidate) }));
  if (endOfCandidates !== undefined) verbatim.push({ value: 'end-of-candidates' });
  const written = withWritableMsid(rest);
  if (verbatim.length === 0) return written;
  return { ...written, invalid: [...verbatim, ...(written.invalid ?? [])] };
}

type MsidCarrier = Pick<MediaDescription, 'msid' | 'invalid'>;

/**
 * RFC 8830 §2 makes the msid appdata optional, but sdp-transform's writer prints a missing one as
 * "undefined"; such entries are written verbatim instead.
 */
function withWritableMsid<T extends MsidCarrier>(section: T): T {
  const { msid } = section;
  if (msid === undefined || msid.every((entry) => entry.appdata !== undefined)) return section;
  const complete = msid.filter((entry) => entry.appdata !== undefined);
  const bare = msid.filter((entry) => entry.appdata === undefined).map((entry) => ({ value: `msid:${entry.id}` }));
  const { msid: _msid, ...rest } = section;
  return { ...rest, ...(complete.length === 0 ? {} : { msid: complete }), invalid: [...bare, ...(section.invalid ?? [])] } as T;
}
