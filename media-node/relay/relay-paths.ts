/**
 * The two directions of a relaying call, built from the legs' formats, with what outlives any one
 * pair of paths: each leg's outgoing RTP stream (`OutgoingStream`: one SSRC, continuous counters)
 * and the RTCP reporter toward the PBX. A re-INVITE that changes a codec or its payload type numbers
 * calls `rebuild`, and the far ends see their streams go on.
 */
import type { Clock } from '../../shared/clock/index.ts';
import type { BrowserLeg } from '../browser-leg/index.ts';
import type { OpusEncoderOptions } from '../codec/index.ts';
import type { JitterBufferOptions } from '../jitter/index.ts';
import type { PbxLeg } from '../pbx-leg/index.ts';
import { randomStreamStart } from '../rtp/index.ts';
import { toBrowser, toPbx } from './leg-adapters.ts';
import type { LegFormats } from './leg-formats.ts';
import type { MediaPath } from './media-path.ts';
import { OutgoingStream } from './outgoing-stream.ts';
import { createPath } from './path-factory.ts';
import { PbxRtcpReporter } from './pbx-rtcp-reporter.ts';

export interface RelayPathsOptions {
  readonly id: string;
  readonly browser: BrowserLeg;
  readonly pbx: PbxLeg;
  readonly clock: Clock;
  readonly jitterBuffer?: Omit<JitterBufferOptions, 'clockRate'> | undefined;
  readonly opus?: OpusEncoderOptions | undefined;
}

export class RelayPaths {
  readonly #options: RelayPathsOptions;
  readonly #pbxStream = new OutgoingStream();
  readonly #browserStream: OutgoingStream;
  #toPbx: MediaPath;
  #toBrowser: MediaPath;
  #rtcp: PbxRtcpReporter;

  constructor(options: RelayPathsOptions, browserFormats: LegFormats, pbxFormats: LegFormats) {
    this.#options = options;
    // werift writes its sender's SSRC on everything the browser leg sends (RFC 3550 §8).
    const ssrc = options.browser.sendSsrc;
    this.#browserStream = new OutgoingStream(ssrc === undefined ? randomStreamStart() : { ...randomStreamStart(), ssrc });
    this.#rtcp = this.#reporter(pbxFormats.audio.clockRate);
    [this.#toPbx, this.#toBrowser] = this.#build(browserFormats, pbxFormats);
  }

  get toPbx(): MediaPath {
    return this.#toPbx;
  }

  get toBrowser(): MediaPath {
    return this.#toBrowser;
  }

  get rtcp(): PbxRtcpReporter {
    return this.#rtcp;
  }

  /** New paths for new formats; each leg's stream goes on where the old path left it. */
  rebuild(browserFormats: LegFormats, pbxFormats: LegFormats): void {
    if (this.#rtcp.clockRate !== pbxFormats.audio.clockRate) this.#rtcp = this.#reporter(pbxFormats.audio.clockRate);
    [this.#toPbx, this.#toBrowser] = this.#build(browserFormats, pbxFormats);
  }

  #reporter(clockRate: number): PbxRtcpReporter {
    return new PbxRtcpReporter({ ssrc: this.#pbxStream.ssrc, cname: `sipedge-${this.#options.id}`, clockRate });
  }

  #build(browserFormats: LegFormats, pbxFormats: LegFormats): [MediaPath, MediaPath] {
    const { clock, browser, pbx } = this.#options;
    const now = (): number => clock.now();
    const common = { jitterBuffer: this.#options.jitterBuffer, opus: this.#options.opus };
    const pbxClock = pbxFormats.audio.clockRate;
    const browserClock = browserFormats.audio.clockRate;
    const toPbxPath = createPath({
      ...common,
      incoming: browserFormats,
      outgoing: pbxFormats,
      out: this.#pbxStream.through(toPbx(pbx, this.#rtcp, now), pbxClock, now),
      stream: this.#pbxStream.continuation(now(), pbxClock),
    });
    const toBrowserPath = createPath({
      ...common,
      incoming: pbxFormats,
      outgoing: browserFormats,
      out: this.#browserStream.through(toBrowser(browser), browserClock, now),
      stream: this.#browserStream.continuation(now(), browserClock),
    });
    return [toPbxPath, toBrowserPath];
  }
}
