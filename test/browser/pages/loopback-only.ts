/**
 * Keeps a test's WebRTC on this machine (FIELD-NOTES "Browsers in tests"): the SDP a page sends
 * carries only its 127.0.0.1 UDP candidates (Chromium gathers them with
 * `--allow-loopback-in-peer-connection`), so the far side checks, and sends media, to loopback only.
 *
 * SIP.js and JsSIP both wait for ICE gathering and then read `localDescription`, so filtering that
 * getter is enough; neither trickles candidates over SIP.
 */
export function loopbackOnly(sdp: string): string {
  return sdp
    .split('\r\n')
    .filter((line) => !line.startsWith('a=candidate:') || / udp \d+ 127\.0\.0\.1 \d+ typ host/i.test(line))
    .map((line) => (line.startsWith('c=IN IP4 ') ? 'c=IN IP4 127.0.0.1' : line))
    .join('\r\n');
}

export function installLoopbackOnly(): void {
  const Native = window.RTCPeerConnection;
  const filtered = (description: RTCSessionDescription | null): RTCSessionDescription | null =>
    description === null ? null : new RTCSessionDescription({ type: description.type, sdp: loopbackOnly(description.sdp) });
  class LoopbackPeerConnection extends Native {
    override get localDescription(): RTCSessionDescription | null {
      return filtered(super.localDescription);
    }
    override get currentLocalDescription(): RTCSessionDescription | null {
      return filtered(super.currentLocalDescription);
    }
    override get pendingLocalDescription(): RTCSessionDescription | null {
      return filtered(super.pendingLocalDescription);
    }
  }
  window.RTCPeerConnection = LoopbackPeerConnection;
}

/** Sums `packetsReceived` over a connection's inbound audio RTP streams. */
export async function inboundAudioPackets(connection: RTCPeerConnection | undefined): Promise<number> {
  if (connection === undefined) return 0;
  let packets = 0;
  (await connection.getStats()).forEach((report: { type?: string; kind?: string; packetsReceived?: number }) => {
    if (report.type === 'inbound-rtp' && report.kind === 'audio') packets += report.packetsReceived ?? 0;
  });
  return packets;
}
