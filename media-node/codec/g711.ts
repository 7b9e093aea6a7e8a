/**
 * The two G.711 laws behind one shape, so a transcoder is written once and told which law to use.
 * RFC 3551 §4.5.14: PCMU is static payload type 0, PCMA 8; both run an 8,000 Hz clock, one octet a
 * sample, so a 20 ms frame is 160 octets.
 */
import { decodePcma, encodePcma } from './pcma.ts';
import { decodePcmu, encodePcmu } from './pcmu.ts';

export type G711Law = 'pcmu' | 'pcma';

export interface G711Codec {
  readonly law: G711Law;
  /** RFC 3551 static payload type. */
  readonly payloadType: 0 | 8;
  /** SDP encoding name (RFC 3551 §6). */
  readonly encodingName: 'PCMU' | 'PCMA';
  readonly clockRate: 8000;
  encode(pcm: Int16Array, out: Uint8Array): void;
  decode(payload: Uint8Array, out: Int16Array): void;
}

export const PCMU: G711Codec = {
  law: 'pcmu',
  payloadType: 0,
  encodingName: 'PCMU',
  clockRate: 8000,
  encode: encodePcmu,
  decode: decodePcmu,
};

export const PCMA: G711Codec = {
  law: 'pcma',
  payloadType: 8,
  encodingName: 'PCMA',
  clockRate: 8000,
  encode: encodePcma,
  decode: decodePcma,
};

export function g711Codec(law: G711Law): G711Codec {
  return law === 'pcmu' ? PCMU : PCMA;
}

/** Samples (and octets) in one 20 ms G.711 frame. */
export const G711_FRAME_SAMPLES = 160;
