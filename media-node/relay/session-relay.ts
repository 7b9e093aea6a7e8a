/**
 * A session's media once both legs are settled: the two paths (`RelayPaths`), what each leg has
 * delivered (RFC 3550 receive statistics) and its quality over time (a sample per direction every
 * interval, on the frame clock: `quality-series.ts`), the media timeout, and hold (RFC 3264 §8.4):
 * a direction carries media only while its sender sends and its receiver receives, by each party's
 * latest SDP direction. DTMF the edge asks for goes toward the PBX as RFC 4733 events (`dtmf-sender.ts`).
 */
import type { Clock } from '../../shared/clock/index.ts';
import type { Direction } from '../../shared/sdp/index.ts';
import type { BrowserLeg } from '../browser-leg/index.ts';
import type { RtcpCompound } from '../rtp/index.ts';
import { QualitySeries, ReceiveStatistics, type QualitySample, type ReceivedPacket } from '../quality/index.ts';
import { DtmfSender } from './dtmf-sender.ts';
import type { LegFormats } from './leg-formats.ts';
import type { InboundPacket, MediaPath } from './media-path.ts';
import { MediaWatchdog, type LegName, type MediaSilence } from './media-watchdog.ts';
import { RelayPaths, type RelayPathsOptions } from './relay-paths.ts';
import { codecImpairment, directionStats, type MediaSessionStats } from './session-stats.ts';

/** Each direction's quality samples, oldest first, `intervalMs` apart. */
export interface QualitySamples {
  readonly intervalMs: number;
  readonly browserToPbx: readonly QualitySample[];
  readonly pbxToBrowser: readonly QualitySample[];
}

export interface SamplingOptions {
  /** Default 5 s. */
  readonly intervalMs?: number;
  /** Samples kept per direction, oldest dropped first; default 720. */
  readonly limit?: number;
}

export class SessionRelay {
  readonly paths: RelayPaths;
  readonly dtmf = new DtmfSender();
  readonly #clock: Clock;
  /** Its round trip (the browser's reports) goes with the browser's stream, as the PBX leg's with the PBX's. */
  readonly #browser: Pick<BrowserLeg, 'roundTripMs'>;
  readonly #fromBrowser: ReceiveStatistics;
  readonly #fromPbx: ReceiveStatistics;
  readonly #watchdog: MediaWatchdog;
  /** Each party's direction, as the session keeps it. */
  readonly #directions: Readonly<Record<LegName, Direction>>;
  readonly #series: { readonly toPbx: QualitySeries; readonly toBrowser: QualitySeries };
  readonly #codecs: { readonly browser: string; readonly pbx: string };
  /** What the receive statistics read of each packet, filled in place: no object per packet. */
  readonly #received = { sequenceNumber: 0, timestamp: 0, payloadLength: 0 };

  constructor(
    paths: RelayPathsOptions,
    formats: { readonly browser: LegFormats; readonly pbx: LegFormats },
    directions: Readonly<Record<LegName, Direction>>,
    mediaTimeoutMs: number,
    nowMs: number,
    sampling: SamplingOptions = {},
  ) {
    this.#clock = paths.clock;
    this.#browser = paths.browser;
    this.#directions = directions;
    this.#fromBrowser = new ReceiveStatistics(formats.browser.audio.clockRate);
    this.#fromPbx = new ReceiveStatistics(formats.pbx.audio.clockRate);
    this.#watchdog = new MediaWatchdog(mediaTimeoutMs, nowMs, { browser: sends(directions.browser), pbx: sends(directions.pbx) });
    this.paths = new RelayPaths(paths, formats.browser, formats.pbx);
    this.#series = {
      toPbx: new QualitySeries(nowMs, sampling.intervalMs, sampling.limit),
      toBrowser: new QualitySeries(nowMs, sampling.intervalMs, sampling.limit),
    };
    this.#codecs = { browser: formats.browser.audio.name, pbx: formats.pbx.audio.name };
  }

  /** An RTP packet from the browser; `audio` when it carries the leg's audio codec (not events). */
  fromBrowser(inbound: InboundPacket, nowMs: number, audio: boolean): void {
    this.#watchdog.heard('browser', nowMs);
    this.#fromBrowser.onPacket(this.#receivedOf(inbound), nowMs, audio);
    this.#relay(this.paths.toPbx, 'browser', inbound, nowMs);
  }

  /** An RTP packet from the PBX, its payload type already the leg's canonical one. */
  fromPbx(inbound: InboundPacket, nowMs: number, audio: boolean): void {
    this.#watchdog.heard('pbx', nowMs);
    this.paths.rtcp.onReceived(inbound.ssrc);
    this.#fromPbx.onPacket(this.#receivedOf(inbound), nowMs, audio);
    this.#relay(this.paths.toBrowser, 'pbx', inbound, nowMs);
  }

  onPbxRtcp(compound: RtcpCompound, nowMs: number): void {
    this.paths.rtcp.onRtcp(compound, nowMs, this.#fromPbx);
  }

  /** One frame clock tick: both paths, then the RTCP report due toward the PBX and any leg silent too long. */
  onFrame(frameMs: number): { readonly report: Uint8Array | undefined; readonly silence: MediaSilence | undefined } {
    this.paths.toPbx.onFrame(frameMs);
    this.paths.toBrowser.onFrame(frameMs);
    this.dtmf.onFrame(this.paths.toPbx, frameMs);
    const report = this.paths.rtcp.due(this.#clock.now(), this.#fromPbx);
    if (this.#series.toPbx.elapsedMs(frameMs) >= this.#series.toPbx.intervalMs) this.#sample(frameMs);
    return { report, silence: this.#watchdog.check(frameMs) };
  }

  /** The session ends: the interval under way becomes a last, shorter sample, so the samples add up to the totals. */
  finish(nowMs: number): void {
    if (this.#series.toPbx.elapsedMs(nowMs) > 0) this.#sample(nowMs);
  }

  samples(): QualitySamples {
    return { intervalMs: this.#series.toPbx.intervalMs, browserToPbx: this.#series.toPbx.samples(), pbxToBrowser: this.#series.toBrowser.samples() };
  }

  /** Both directions at once, so their samples share their times. */
  #sample(nowMs: number): void {
    const toPbx = this.paths.toPbx;
    const toBrowser = this.paths.toBrowser;
    this.#series.toPbx.sample(this.#fromBrowser.snapshot(), codecImpairment(this.#codecs.browser), {
      roundTripMs: this.#browser.roundTripMs,
      ...(toPbx.bufferDelayMs > 0 ? { jitterBufferMs: toPbx.bufferDelayMs } : {}),
    }, nowMs);
    this.#series.toBrowser.sample(this.#fromPbx.snapshot(), codecImpairment(this.#codecs.pbx), {
      roundTripMs: this.paths.rtcp.roundTrip.latestMs,
      ...(toBrowser.bufferDelayMs > 0 ? { jitterBufferMs: toBrowser.bufferDelayMs } : {}),
    }, nowMs);
  }

  /** A party's new direction: its media timeout starts afresh, and only if it now sends. */
  expect(leg: LegName, direction: Direction, nowMs: number): void {
    this.#watchdog.expect(leg, sends(direction), nowMs);
  }

  /** Each direction's figures, under the name of the codec its sender uses. */
  stats(codecs: { readonly browser: string; readonly pbx: string }): Pick<MediaSessionStats, 'browserToPbx' | 'pbxToBrowser'> {
    return {
      browserToPbx: directionStats(this.paths.toPbx, this.#fromBrowser, codecs.browser, this.#browser.roundTripMs),
      pbxToBrowser: directionStats(this.paths.toBrowser, this.#fromPbx, codecs.pbx, this.paths.rtcp.roundTrip.latestMs),
    };
  }

  #receivedOf(inbound: InboundPacket): ReceivedPacket {
    const received = this.#received;
    received.sequenceNumber = inbound.sequenceNumber;
    received.timestamp = inbound.timestamp;
    received.payloadLength = inbound.payload.length;
    return received;
  }

  #relay(path: MediaPath, from: LegName, inbound: InboundPacket, nowMs: number): void {
    const to: LegName = from === 'browser' ? 'pbx' : 'browser';
    if (!sends(this.#directions[from]) || !receives(this.#directions[to])) {
      path.counters.dropped.held++;
      return;
    }
    path.onPacket(inbound, nowMs);
  }
}

function sends(direction: Direction): boolean {
  return direction === 'sendrecv' || direction === 'sendonly';
}

function receives(direction: Direction): boolean {
  return direction === 'sendrecv' || direction === 'recvonly';
}
