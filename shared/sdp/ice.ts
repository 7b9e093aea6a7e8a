/**
 * ICE in SDP (RFC 8839): credentials, lite mode, candidates, and restarts.
 */

import type { IceCandidate, SdpMedia, SdpSession } from './session.ts';

export interface IceParameters {
  readonly ufrag: string;
  readonly pwd: string;
  /** RFC 8839 §5: `a=ice-lite` is session-level only. */
  readonly lite: boolean;
  /** `a=ice-options` tokens, such as `trickle` (RFC 8840) or `renomination`. */
  readonly options: readonly string[];
}

/**
 * The ICE parameters in force for a media section: `a=ice-ufrag`, `a=ice-pwd` and `a=ice-options`
 * may be given at session or media level, media level winning (RFC 8839 §5). Undefined when
 * the section has no credentials, which means its peer does not do ICE.
 */
export function iceParameters(session: SdpSession, media: SdpMedia): IceParameters | undefined {
  const ufrag = media.iceUfrag ?? session.iceUfrag;
  const pwd = media.icePwd ?? session.icePwd;
  if (ufrag === undefined || pwd === undefined) return undefined;
  const options = (media.iceOptions ?? session.iceOptions ?? '').split(/\s+/).filter((option) => option !== '');
  return { ufrag, pwd, lite: session.icelite !== undefined, options };
}

/** A copy of the media section with new credentials, as for an ICE restart. */
export function setIceCredentials(media: SdpMedia, credentials: { readonly ufrag: string; readonly pwd: string }): SdpMedia {
  return { ...media, iceUfrag: credentials.ufrag, icePwd: credentials.pwd };
}

/** The section's candidates, in the order written. */
export function candidatesOf(media: SdpMedia): readonly IceCandidate[] {
  return media.candidates ?? [];
}

/** A copy of the media section with `candidate` appended. */
export function addCandidate(media: SdpMedia, candidate: IceCandidate): SdpMedia {
  return { ...media, candidates: [...candidatesOf(media), candidate] };
}

/** A copy of the media section without the candidates `remove` selects (all of them when omitted). */
export function removeCandidates(media: SdpMedia, remove: (candidate: IceCandidate) => boolean = () => true): SdpMedia {
  const { candidates, ...rest } = media;
  const kept = (candidates ?? []).filter((candidate) => !remove(candidate));
  return kept.length === 0 ? rest : { ...rest, candidates: kept };
}

/** RFC 8840: `a=end-of-candidates` says no more candidates will be trickled for this section. */
export function hasEndOfCandidates(media: SdpMedia): boolean {
  return media.endOfCandidates !== undefined;
}

export function setEndOfCandidates(media: SdpMedia, ended: boolean): SdpMedia {
  const { endOfCandidates: _previous, ...rest } = media;
  return ended ? { ...rest, endOfCandidates: 'end-of-candidates' } : rest;
}

/**
 * The indexes of the media sections whose ICE restarts between two descriptions from the same peer.
 * RFC 5245 §9.2.1.1, "Detecting ICE Restart", kept by RFC 8839 §4.4: "If the offer contained a change in the
 * a=ice-ufrag or a=ice-pwd attributes compared to the previous SDP from the peer, it indicates that
 * ICE is restarting for this data stream." Sections are compared by position, since an m= line never
 * moves (RFC 3264 §8); a section that is new, rejected, or without ICE on either side is no restart.
 */
export function iceRestarts(previous: SdpSession, next: SdpSession): number[] {
  const restarted: number[] = [];
  next.media.forEach((media, index) => {
    const before = previous.media[index];
    if (before === undefined || media.port === 0) return;
    const old = iceParameters(previous, before);
    const now = iceParameters(next, media);
    if (old !== undefined && now !== undefined && (old.ufrag !== now.ufrag || old.pwd !== now.pwd)) restarted.push(index);
  });
  return restarted;
}

/** True when `next` restarts ICE for any media section (see `iceRestarts`). */
export function isIceRestart(previous: SdpSession, next: SdpSession): boolean {
  return iceRestarts(previous, next).length > 0;
}
