/**
 * Media timeout: a leg that should be sending and has sent no RTP for `timeoutMs` means the call is
 * dead (a browser tab closed without BYE, a PBX that crashed, a NAT binding gone), and the control
 * layer ends both dialogs. A leg on hold that said it would not send (RFC 3264 §5.1: recvonly or
 * inactive) is not expected to, and re-arming on every change of direction gives the far end the
 * whole timeout to start again. Pure state over passed-in times; the frame clock calls `check`.
 */
export type LegName = 'browser' | 'pbx';

export interface MediaSilence {
  readonly leg: LegName;
  readonly silentMs: number;
}

interface LegWatch {
  expecting: boolean;
  lastHeardMs: number;
}

export class MediaWatchdog {
  readonly timeoutMs: number;
  readonly #legs: Record<LegName, LegWatch>;

  constructor(timeoutMs: number, nowMs: number, expecting: Readonly<Record<LegName, boolean>>) {
    this.timeoutMs = timeoutMs;
    this.#legs = {
      browser: { expecting: expecting.browser, lastHeardMs: nowMs },
      pbx: { expecting: expecting.pbx, lastHeardMs: nowMs },
    };
  }

  heard(leg: LegName, nowMs: number): void {
    this.#legs[leg].lastHeardMs = nowMs;
  }

  /** Starts (or stops) expecting media from `leg`, giving it a full timeout from now. */
  expect(leg: LegName, expecting: boolean, nowMs: number): void {
    this.#legs[leg] = { expecting, lastHeardMs: nowMs };
  }

  /** The first leg that has been silent too long, if any. */
  check(nowMs: number): MediaSilence | undefined {
    for (const leg of ['browser', 'pbx'] as const) {
      const watch = this.#legs[leg];
      const silentMs = nowMs - watch.lastHeardMs;
      if (watch.expecting && silentMs >= this.timeoutMs) return { leg, silentMs };
    }
    return undefined;
  }
}
