/**
 * The PBX side of one session: its leg, and what the node and the PBX have settled so far (the
 * PBX's formats and the payload types it may send, the SDES keys, the node's last SDP toward it).
 * The PBX's answer to the node's offer settles it; each new offer from the PBX while relaying
 * (re-INVITE) moves it on as `pbx-reoffer.ts` plans, the leg updated to match.
 */
import type { CodecFormat, CodecInput, Direction, SdpSession } from '../../shared/sdp/index.ts';
import type { PbxLeg } from '../pbx-leg/index.ts';
import type { LegFormats } from './leg-formats.ts';
import type { PbxSideOptions } from './media-session-options.ts';
import { planPbxReoffer, type PbxReofferPlan } from './pbx-reoffer.ts';
import { pbxLegSrtp, type PbxSrtpState } from './pbx-srtp-state.ts';
import { DEFAULT_PBX_CODECS, MediaSessionError, readPbxAnswer } from './session-negotiation.ts';
import { parsePbxSdp, type SessionParts } from './session-setup.ts';

export class PbxNegotiation {
  readonly leg: PbxLeg;
  readonly #options: PbxSideOptions;
  /** The codecs the node offered or answered with at the session's creation. */
  readonly #offered: readonly CodecInput[];
  /** The last SDP sent to the PBX: its origin is revised by every later answer (RFC 3264 §8). */
  #description: SdpSession;
  /** SDES-SRTP on the PBX leg; undefined for RTP/AVP. */
  #srtp: PbxSrtpState | undefined;
  #formats: LegFormats | undefined;
  /** Payload types the PBX may send, to this leg's canonical ones. */
  #aliases: ReadonlyMap<number, number> = new Map();

  constructor(parts: SessionParts, options: PbxSideOptions) {
    this.leg = parts.pbx;
    this.#options = options;
    this.#offered = parts.pbxOffered;
    this.#description = parts.pbxDescription;
    this.#srtp = parts.pbxSrtp;
    this.#formats = parts.pbxFormats;
    // The PBX's own payload types, where its offer settled them (RFC 3264 §6.1).
    if (parts.pbxFormats !== undefined) this.#aliases = new Map(parts.pbxOffered.map((codec) => [codec.payloadType, codec.payloadType]));
  }

  /** The PBX leg's formats, once negotiated. */
  get formats(): LegFormats | undefined {
    return this.#formats;
  }

  /** The leg's canonical payload type for one the PBX sent; undefined for one not negotiated. */
  payloadType(sent: number): number | undefined {
    return this.#aliases.get(sent);
  }

  /**
   * The PBX's answer to the node's offer, checked against what was offered (relayable to and from
   * `browserAudio`); returns the PBX's direction. Throws `MediaSessionError`, leaving nothing changed.
   */
  takeAnswer(answer: string, browserAudio: CodecFormat | readonly CodecFormat[]): Direction {
    const settled = readPbxAnswer(parsePbxSdp(answer), browserAudio, this.#offered);
    const srtp = this.#srtp;
    // RFC 3264 §6: the answer keeps the offer's transport protocol; RFC 4568 §5.1.3: and takes a key.
    if (srtp !== undefined && settled.sdes === undefined) throw new MediaSessionError('no-common-crypto', 'the PBX answered an RTP/SAVP offer without an SDES key (RTP/AVP)');
    if (srtp === undefined && settled.sdes !== undefined) throw new MediaSessionError('bad-pbx-sdp', 'the PBX answered an RTP/AVP offer with RTP/SAVP');
    if (srtp !== undefined && settled.sdes !== undefined) this.#srtp = { ...srtp, remote: settled.sdes.key };
    this.leg.update({
      remote: settled.remote,
      payloadTypes: settled.aliases.keys(),
      ...(this.#srtp === undefined ? {} : { srtp: pbxLegSrtp(this.#srtp) }),
    });
    this.#formats = { audio: settled.audio, telephoneEvent: settled.telephoneEvent };
    this.#aliases = settled.aliases;
    return settled.direction;
  }

  /**
   * A new offer from the PBX while relaying, against the browser's codec; returns the plan applied
   * (its `answer`, and whether the paths must be rebuilt). Throws `MediaSessionError`, leaving
   * nothing changed.
   */
  takeOffer(offer: string, browserAudio: CodecFormat): PbxReofferPlan {
    const plan = planPbxReoffer(offer, {
      browserAudio,
      formats: this.#formats as LegFormats,
      aliases: this.#aliases,
      signalled: this.leg.signalled,
      srtp: this.#srtp,
      description: this.#description,
      address: this.#options.address,
      port: this.leg.rtpPort,
      preferences: this.#options.codecs ?? DEFAULT_PBX_CODECS,
    });
    this.leg.update({
      payloadTypes: plan.aliases.keys(),
      ...(plan.moved === undefined ? {} : { remote: plan.moved }),
      ...(plan.srtpChanged ? { srtp: plan.srtp === undefined ? null : pbxLegSrtp(plan.srtp) } : {}),
    });
    this.#srtp = plan.srtp;
    this.#description = plan.answer;
    this.#aliases = plan.aliases;
    if (plan.rebuild) this.#formats = plan.formats;
    return plan;
  }
}
