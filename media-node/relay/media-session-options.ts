/** What a media session is created from, and how it can end. */
import type { Clock } from '../../shared/clock/index.ts';
import type { CodecFormat, CodecInput } from '../../shared/sdp/index.ts';
import type { BrowserConnectionState, BrowserIceOptions } from '../browser-leg/index.ts';
import type { OpusEncoderOptions } from '../codec/index.ts';
import type { JitterBufferOptions } from '../jitter/index.ts';
import type { Logger } from '../logger.ts';
import type { PortRange } from '../pbx-leg/index.ts';
import type { FrameTicker } from './frame-ticker.ts';
import type { LegName } from './media-watchdog.ts';
import type { MediaSession } from './media-session.ts';
import type { SamplingOptions } from './session-relay.ts';

export interface PbxSideOptions {
  readonly ports: PortRange;
  /** Local address the RTP socket binds ('0.0.0.0', or '127.0.0.1' in tests). */
  readonly bindAddress: string;
  /** The address written in the PBX offer's `c=` line: the node's address as the PBX reaches it. */
  readonly address: string;
  /** What to offer the PBX (or accept from it), in order of preference; default `DEFAULT_PBX_CODECS`. */
  readonly codecs?: readonly CodecInput[];
  readonly relatchAfterSilenceMs?: number;
  readonly maxPacketOctets?: number;
  /**
   * `sdes`: the node's own offers to the PBX are RTP/SAVP with an SDES key (RFC 4568), for trunks
   * that require SRTP. A PBX's offer is answered in its own protocol whatever this says.
   */
  readonly srtp?: 'sdes';
}

export interface MediaSessionOptions {
  /** Names the call in logs and stats; random by default. */
  readonly id?: string;
  readonly browser?: {
    /** Formats the browser leg accepts (or offers), in order of preference; default Opus, PCMU, PCMA, events. */
    readonly codecs?: readonly CodecFormat[];
    readonly ice?: BrowserIceOptions;
    readonly gatherTimeoutMs?: number;
  };
  readonly pbx: PbxSideOptions;
  /** The node's frame clock; its clock must be the session's. */
  readonly ticker: FrameTicker;
  /** Default 30 s. */
  readonly mediaTimeoutMs?: number;
  /** How often each direction's quality is sampled, and how many samples are kept. */
  readonly sampling?: SamplingOptions;
  readonly opus?: OpusEncoderOptions;
  readonly jitterBuffer?: Omit<JitterBufferOptions, 'clockRate'>;
  /** Wall-clock milliseconds (RTCP derives NTP time from it); default `Date.now`. */
  readonly clock?: Clock;
  readonly logger?: Logger;
  /** Told once, however the session ended. */
  readonly onEnded?: (end: SessionEnd) => void;
}

export type SessionEnd =
  | { readonly reason: 'closed' }
  | { readonly reason: 'media-timeout'; readonly leg: LegName; readonly silentMs: number }
  | { readonly reason: 'browser-connection-lost'; readonly state: BrowserConnectionState }
  | { readonly reason: 'error'; readonly message: string };

/** A call from the browser: its SDP offer. */
export interface BrowserCallOptions extends MediaSessionOptions {
  readonly browserOffer: string;
}

/** A call from the PBX: its SDP offer. */
export interface PbxCallOptions extends MediaSessionOptions {
  readonly pbxOffer: string;
}

/** A call whose PBX offered in its 200 to an INVITE without SDP: both parties' offers. */
export interface BothOffersCallOptions extends MediaSessionOptions {
  readonly browserOffer: string;
  readonly pbxOffer: string;
}

export interface CreatedBothSession {
  readonly session: MediaSession;
  readonly browserAnswer: string;
  readonly pbxAnswer: string;
}

export interface CreatedOfferingSession {
  readonly session: MediaSession;
  /** The SDP offers for the two dialogs; their answers go to `takeBrowserAnswer` and `takePbxAnswer`. */
  readonly browserOffer: string;
  readonly pbxOffer: string;
}

export interface CreatedPbxSession {
  readonly session: MediaSession;
  /** The SDP answer for the PBX's dialog. */
  readonly pbxAnswer: string;
  /** The SDP offer for the browser's dialog; its answer goes to `takeBrowserAnswer`. */
  readonly browserOffer: string;
}

export interface CreatedSession {
  readonly session: MediaSession;
  /** The SDP answer for the browser's dialog. */
  readonly browserAnswer: string;
  /** The SDP offer for the PBX's dialog. */
  readonly pbxOffer: string;
}
