export type { BrowserIceOptions } from './browser-ice-options.ts';
export { LOOPBACK_ONLY, weriftIceConfig } from './browser-ice-options.ts';
export type { BrowserCodecs } from './browser-codecs.ts';
export type { BrowserRtp } from './dtls-srtp-media.ts';
export { DEFAULT_BROWSER_CODECS, chooseBrowserCodecs, codecList, isTelephoneEvent, toWeriftCodec } from './browser-codecs.ts';
export { finishLocalDescription } from './local-description.ts';
export type {
  BrowserAnswerOptions,
  BrowserConnectionState,
  BrowserLegCounters,
  BrowserLegErrorReason,
  BrowserLegHandlers,
  BrowserLegOptions,
  BrowserOfferOptions,
} from './browser-leg.ts';
export { BrowserLeg, BrowserLegError } from './browser-leg.ts';
