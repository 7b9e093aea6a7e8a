/**
 * SDP text to a typed session (RFC 8866), on top of sdp-transform.
 *
 * sdp-transform reads the text format; this module refuses what is not SDP (sdp-transform silently
 * skips any line it does not recognise, so garbage "parses" to an empty session), checks the
 * mandatory lines, and repairs the three attributes sdp-transform reads with loss: `a=candidate`
 * (extensions after `network-cost` dropped), `a=crypto` (session parameters after the first dropped)
 * and `a=ice-options` (only the first option kept). Those are re-read from the raw lines.
 */

import { parse as parseText } from 'sdp-transform';
import type { MediaDescription, SessionDescription } from 'sdp-transform';
import { parseCandidate } from './ice-candidate.ts';
import { SdpError } from './sdp-error.ts';
import type { SdpMedia, SdpOrigin, SdpSession } from './session.ts';
import { type LineIndex, validateSession } from './session-validation.ts';

interface RawAttribute {
  readonly name: string;
  readonly value: string;
  readonly line: number;
}

/** What the line scan learns: where things are, and the raw attributes sdp-transform mangles. */
interface LineScan {
  readonly index: LineIndex;
  readonly sessionAttributes: RawAttribute[];
  readonly mediaAttributes: RawAttribute[][];
}

/** RFC 8866 §5 line types; `k=` (§5.12, obsolete) is accepted and, as sdp-transform does, dropped. */
const SESSION_TYPES = 'vosiuepcbtrzkam';
const MEDIA_TYPES = 'micbka';
const REPAIRED_ATTRIBUTES = new Set(['candidate', 'crypto', 'ice-options']);

/** Parses an SDP body. Line endings may be CRLF (as RFC 8866 §5 requires) or bare LF. Throws `SdpError`. */
export function parseSdp(text: string): SdpSession {
  const scan = scanLines(text);
  const raw = parseText(text);
  if (raw.origin === undefined) {
    throw new SdpError('invalid-origin', 'missing or malformed o= line (RFC 8866 §5.2)', lineAt(scan.index.origin));
  }
  const session = normaliseSession(raw, raw.origin, scan);
  validateSession(session, scan.index);
  return session;
}

function scanLines(text: string): LineScan {
  const lines = text.split(/\r\n|\r|\n/);
  const media: number[] = [];
  const mediaAttributes: RawAttribute[][] = [];
  const sessionAttributes: RawAttribute[] = [];
  let origin: number | undefined;
  let timing: number | undefined;
  let first = true;
  lines.forEach((line, i) => {
    const number = i + 1;
    if (line.trim() === '') return;
    // RFC 8866 §5: "An SDP description consists of a number of lines of text of the form <type>=<value>,
    // where <type> MUST be exactly one case-significant character".
    if (!/^[a-z]=/.test(line)) {
      throw new SdpError('not-sdp', `line ${String(number)} is not <type>=<value>: ${JSON.stringify(line.slice(0, 40))}`, { line: number });
    }
    const type = line[0] ?? '';
    // RFC 8866 §5: "An SDP parser MUST completely ignore or reject any session description that
    // contains a type letter that it does not understand"; and a media description holds only
    // m=, i=, c=, b=, k= and a= lines, so a session line after the first m= is as foreign.
    if (!(media.length === 0 ? SESSION_TYPES : MEDIA_TYPES).includes(type)) {
      const where = media.length === 0 ? 'in SDP' : 'in a media section';
      throw new SdpError('not-sdp', `line ${String(number)}: ${type}= is not allowed ${where}`, { line: number });
    }
    if (first && type !== 'v') {
      throw new SdpError('unsupported-version', 'an SDP description starts with v= (RFC 8866 §5)', { line: number });
    }
    first = false;
    if (type === 'm') {
      media.push(number);
      mediaAttributes.push([]);
    } else if (media.length === 0 && type === 'o') origin = number;
    else if (media.length === 0 && type === 't') timing ??= number;
    else if (type === 'a') {
      const content = line.slice(2);
      const colon = content.indexOf(':');
      const name = colon === -1 ? content : content.slice(0, colon);
      if (REPAIRED_ATTRIBUTES.has(name)) {
        const attribute = { name, value: colon === -1 ? '' : content.slice(colon + 1).trim(), line: number };
        (mediaAttributes[mediaAttributes.length - 1] ?? sessionAttributes).push(attribute);
      }
    }
  });
  if (first) throw new SdpError('empty', 'the SDP body is empty');
  return { index: { origin, timing, media }, sessionAttributes, mediaAttributes };
}

function normaliseSession(raw: SessionDescription, origin: SessionDescription['origin'], scan: LineScan): SdpSession {
  const { origin: _origin, media: rawMedia, ...rest } = raw;
  const loose = rest as SessionDescription & Partial<Pick<MediaDescription, 'rtp' | 'fmtp'>> & { candidates?: unknown };
  checkFormatAttributes({ rtp: loose.rtp ?? [], fmtp: loose.fmtp ?? [] }, undefined);
  // RFC 8839 §5.1: candidates are media-level only; one at session level is kept verbatim, unread.
  delete loose.candidates;
  const session: SdpSession = {
    ...loose,
    origin: normaliseOrigin(origin),
    media: rawMedia.map((media, i) => normaliseMedia(media, scan.mediaAttributes[i] ?? [], scan.index.media[i])),
  };
  stringifyFields(session, ['name', 'description', 'uri', 'email', 'phone', 'iceUfrag', 'icePwd', 'setup', 'control']);
  session.groups?.forEach((group) => stringifyFields(group, ['mids']));
  if (session.msidSemantic !== undefined) stringifyFields(session.msidSemantic, ['token']);
  session.invalid?.forEach((attribute) => stringifyFields(attribute, ['value']));
  dropRepairedVerbatim(session);
  const sessionCandidates = scan.sessionAttributes.filter((a) => a.name === 'candidate');
  if (sessionCandidates.length > 0) {
    session.invalid = [...(session.invalid ?? []), ...sessionCandidates.map((a) => ({ value: `candidate:${a.value}` }))];
  }
  const iceOptions = scan.sessionAttributes.find((a) => a.name === 'ice-options');
  if (iceOptions !== undefined) session.iceOptions = iceOptions.value;
  return session;
}

function normaliseOrigin(origin: SessionDescription['origin']): SdpOrigin {
  return {
    username: String(origin.username),
    sessionId: String(origin.sessionId),
    sessionVersion: String(origin.sessionVersion),
    netType: String(origin.netType),
    ipVer: origin.ipVer,
    address: String(origin.address),
  };
}

function normaliseMedia(raw: MediaDescription, attributes: readonly RawAttribute[], line: number | undefined): SdpMedia {
  const { candidates: _lossy, payloads, ...rest } = raw;
  const media: SdpMedia = { ...rest, payloads: payloads === undefined ? '' : String(payloads) };
  stringifyFields(media, ['mid', 'iceUfrag', 'icePwd', 'setup', 'control', 'label', 'remoteCandidates']);
  checkFormatAttributes(media, line);
  media.msid?.forEach((msid) => stringifyFields(msid, ['id', 'appdata']));
  media.ssrcs?.forEach((ssrc) => stringifyFields(ssrc, ['attribute', 'value']));
  media.ssrcGroups?.forEach((group) => stringifyFields(group, ['ssrcs']));
  media.ext?.forEach((ext) => stringifyFields(ext, ['uri', 'config']));
  media.invalid?.forEach((attribute) => stringifyFields(attribute, ['value']));
  dropRepairedVerbatim(media);

  const candidates = attributes.filter((a) => a.name === 'candidate');
  if (candidates.length > 0) {
    media.candidates = candidates.map((a) => {
      try {
        return parseCandidate(a.value);
      } catch (error) {
        throw new SdpError('invalid-attribute', `malformed a=candidate on line ${String(a.line)}`, { line: a.line, cause: error });
      }
    });
  }
  const cryptos = attributes.filter((a) => a.name === 'crypto');
  if (cryptos.length > 0) media.crypto = cryptos.map(readCrypto);
  const iceOptions = attributes.find((a) => a.name === 'ice-options');
  if (iceOptions !== undefined) media.iceOptions = iceOptions.value;
  return media;
}

/** RFC 4568 §9.1: `a=crypto:<tag> <crypto-suite> <key-params> [<session-params>]`, session params space-separated. */
function readCrypto(attribute: RawAttribute): NonNullable<SdpMedia['crypto']>[number] {
  const [tag, suite, keyParams, ...sessionParams] = attribute.value.split(/\s+/);
  if (tag === undefined || !/^\d{1,9}$/.test(tag) || suite === undefined || suite === '' || keyParams === undefined || keyParams === '') {
    throw new SdpError('invalid-attribute', `malformed a=crypto on line ${String(attribute.line)} (RFC 4568 §9.1)`, { line: attribute.line });
  }
  const crypto: NonNullable<SdpMedia['crypto']>[number] = { id: Number(tag), suite, config: keyParams };
  if (sessionParams.length > 0) crypto.sessionConfig = sessionParams.join(' ');
  return crypto;
}

/**
 * A repaired attribute sdp-transform's grammar did not match sits in `invalid` too; it is re-read
 * from the raw line, so the verbatim copy would be written twice.
 */
function dropRepairedVerbatim(section: { invalid?: { value: string }[] }): void {
  if (section.invalid === undefined) return;
  const kept = section.invalid.filter((attribute) => !REPAIRED_ATTRIBUTES.has(attribute.value.split(':')[0] ?? ''));
  if (kept.length === 0) delete section.invalid;
  else section.invalid = kept;
}

/**
 * RFC 8866 §6.6: `a=rtpmap:<payload type> <encoding name>/<clock rate>[/<encoding parameters>]`,
 * and §6.15: `a=fmtp:<format> <format specific parameters>`. sdp-transform accepts looser forms,
 * which it would then write back differently.
 */
function checkFormatAttributes(section: Pick<MediaDescription, 'rtp' | 'fmtp'>, line: number | undefined): void {
  for (const rtp of section.rtp) {
    stringifyFields(rtp, ['codec']);
    if (
      !isPayloadType(rtp.payload) ||
      !/^[A-Za-z0-9_.-]+$/.test(rtp.codec) ||
      (rtp.rate !== undefined && !isPositiveInteger(rtp.rate)) ||
      (rtp.encoding !== undefined && !isPositiveInteger(rtp.encoding))
    ) {
      throw new SdpError('invalid-attribute', `malformed a=rtpmap:${String(rtp.payload)} in the section starting at line ${String(line ?? 1)}`, lineAt(line));
    }
  }
  for (const fmtp of section.fmtp) {
    stringifyFields(fmtp, ['config']);
    if (!isPayloadType(fmtp.payload) || fmtp.config.trim() === '') {
      throw new SdpError('invalid-attribute', `malformed a=fmtp:${String(fmtp.payload)} in the section starting at line ${String(line ?? 1)}`, lineAt(line));
    }
  }
}

function isPositiveInteger(value: unknown): boolean {
  return typeof value === 'number' && Number.isSafeInteger(value) && value > 0;
}

function isPayloadType(value: unknown): boolean {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= 127;
}

function lineAt(line: number | undefined): { line?: number } {
  return line === undefined ? {} : { line };
}

/**
 * sdp-transform turns every value that looks like an integer into a number (`a=mid:0` gives `0`);
 * these fields are strings in the grammar, and comparisons such as BUNDLE mids need them as such.
 */
function stringifyFields<T extends object>(target: T, keys: readonly (keyof T & string)[]): void {
  const record = target as Record<string, unknown>;
  for (const key of keys) {
    const value = record[key];
    if (typeof value === 'number') record[key] = String(value);
  }
}
