/**
 * The SDP werift writes, made fit for SIP. werift writes the trickle ICE placeholders `c=IN IP4
 * 0.0.0.0`, port 9 and `a=rtcp:9 IN IP4 0.0.0.0` (RFC 8840 §4.1.1) even when every candidate is
 * already gathered. SIP endpoints do not trickle: RFC 8839 §4.2.1.1 wants the default candidate in
 * `c=` and `m=`, and a `c=0.0.0.0` would read as an RFC 2543 hold to every PBX and to sipedge's own
 * `mediaDirection`. So the first RTP candidate becomes the default, the `a=rtcp` line goes (RTCP is
 * multiplexed, RFC 5761 §5.1.3), and `trickle` leaves `a=ice-options`, since the media node never
 * sends candidates after its description.
 */
import { ipVersionOf, parseSdp, serializeSdp, type SdpMedia } from '../../shared/sdp/index.ts';

export function finishLocalDescription(sdp: string): string {
  const session = parseSdp(sdp);
  return serializeSdp({ ...session, media: session.media.map(finishMedia) });
}

function finishMedia(media: SdpMedia): SdpMedia {
  const candidate = media.candidates?.find((entry) => entry.component === 1);
  if (candidate === undefined || media.port === 0) return media;
  const { rtcp: _rtcp, iceOptions, ...rest } = media;
  const options = (iceOptions ?? '').split(/\s+/).filter((option) => option !== '' && option !== 'trickle');
  return {
    ...rest,
    port: candidate.port,
    connection: { version: ipVersionOf(candidate.ip), ip: candidate.ip },
    ...(options.length === 0 ? {} : { iceOptions: options.join(' ') }),
  };
}
