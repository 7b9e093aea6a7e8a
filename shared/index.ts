/**
 * sipedge's SIP stack, shared by the edge (workerd) and the media node (Node). Web-standard APIs
 * only. Layers, from the bottom: grammar, message, framing; auth and clock beside them;
 * transaction, then dialog. SDP helpers live under the `sdp` namespace because their names
 * (`Codec`, `Direction`, ...) are generic.
 */
export * from './grammar/index.ts';
export * from './message/index.ts';
export * from './framing/index.ts';
export * from './auth/index.ts';
export * from './clock/index.ts';
export * from './transaction/index.ts';
export * from './dialog/index.ts';
export * from './signing/index.ts';
export * as sdp from './sdp/index.ts';
export { VERSION } from './version.ts';
