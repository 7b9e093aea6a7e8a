/**
 * SDES-SRTP on a session's PBX leg (RFC 4568, RFC 3711): the node's own key and its sending
 * context, the PBX's key once an offer or answer has carried it, the tag of the `a=crypto` line the
 * node writes, and what the PBX leg and the node's SDP are given from that state.
 */
import type { SdesCrypto } from '../../shared/sdp/index.ts';
import type { PbxSrtp } from '../pbx-leg/index.ts';
import { SrtpReceiver, SrtpSender, newMasterKey, sdesLine, type MasterKey } from '../srtp/index.ts';
import type { PbxSdes } from './session-negotiation.ts';

/** SDES-SRTP on the PBX leg: the node's key (and its sending context), and the PBX's key once known. */
export interface PbxSrtpState {
  readonly local: MasterKey;
  readonly sender: SrtpSender;
  readonly remote: MasterKey | undefined;
  /** The tag of the `a=crypto` line the node writes. */
  readonly tag: number;
}

/** A fresh SRTP state for the node's side of the PBX leg. */
export function newPbxSrtp(tag: number, remote?: MasterKey): PbxSrtpState {
  const local = newMasterKey();
  return { local, sender: new SrtpSender(local), remote, tag };
}

/** The node's SRTP state for answering an offer: RTP/SAVP (with the PBX's key) if the PBX offered it. */
export function answeringSrtp(sdes: PbxSdes | undefined): PbxSrtpState | undefined {
  return sdes === undefined ? undefined : newPbxSrtp(sdes.tag, sdes.key);
}

/** What the PBX leg is given for `state`: its sending context, and a receiving one once the PBX's key is known. */
export function pbxLegSrtp(state: PbxSrtpState): PbxSrtp {
  return { sender: state.sender, receiver: state.remote === undefined ? undefined : new SrtpReceiver(state.remote) };
}

/** `buildRtpSdp`'s `crypto` option for the node's line, if the leg is RTP/SAVP. */
export function cryptoOf(srtp: PbxSrtpState | undefined): { crypto?: readonly SdesCrypto[] } {
  return srtp === undefined ? {} : { crypto: [sdesLine(srtp.tag, srtp.local)] };
}
