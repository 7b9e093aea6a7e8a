/**
 * What each test page (`sipjs-phone.ts`, `jssip-phone.ts`) offers the test on `window.phone`, the
 * same for both libraries, so one test drives SIP.js in one page and JsSIP in another.
 */
export interface PhoneConfig {
  readonly webSocketUrl: string;
  readonly domain: string;
  readonly username: string;
  readonly password: string;
}

export interface BrowserPhone {
  /** Connects and registers; resolves to the REGISTER's final status. */
  register(config: PhoneConfig): Promise<number>;
  /** Calls `username` of the domain with the microphone (Chromium's fake device); resolves once established. */
  call(username: string): Promise<void>;
  /** Waits for a call, then answers it with the microphone; resolves once established. */
  answerNextCall(): Promise<void>;
  hangUp(): Promise<void>;
  /** Resolves once the current call has ended, whoever ended it. */
  ended(): Promise<void>;
  /** `packetsReceived` of the call's inbound audio RTP stream (RTCPeerConnection.getStats). */
  inboundAudioPackets(): Promise<number>;
  /** Sends a MESSAGE; resolves to its final status. */
  sendMessage(username: string, body: string): Promise<number>;
  /** The body of the next MESSAGE received. */
  nextMessage(): Promise<string>;
}

declare global {
  interface Window {
    phone?: BrowserPhone;
  }
}
