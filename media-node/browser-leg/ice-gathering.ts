/**
 * SIP carries whole descriptions, not trickled candidates (RFC 8840 needs both ends to support it),
 * so the media node answers once its ICE agent has gathered every candidate (RFC 8445 §5.1.1). With
 * host candidates only that takes a few milliseconds; the deadline covers a STUN server that does
 * not answer, after which the description goes out with what was gathered.
 */
import type { RTCPeerConnection } from 'werift';

export function waitForGathering(pc: RTCPeerConnection, timeoutMs: number): Promise<void> {
  if (pc.iceGatheringState === 'complete') return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(finish, timeoutMs);
    const { unSubscribe } = pc.iceGatheringStateChange.subscribe((state) => {
      if (state === 'complete') finish();
    });
    function finish(): void {
      clearTimeout(timer);
      unSubscribe();
      resolve();
    }
  });
}
