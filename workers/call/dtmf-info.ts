/**
 * DTMF in SIP INFO, as browsers' softphones send it (SIP.js `sendDtmf` with INFO, JsSIP
 * `sendDTMF({ transportType: 'INFO' })`): `application/dtmf-relay` (`Signal=5` and `Duration=160`,
 * in milliseconds, one per line) or `application/dtmf` (the key alone). Toward a PBX that negotiated
 * RFC 4733 telephone-event, the PbxLink has the media node send the key in-band instead
 * (`link-calls.ts`); a body this module cannot read is relayed as it came.
 */
import type { Content } from './peer-event.ts';

export interface DtmfKey {
  /** One of `0-9 * # A-D`. */
  readonly digit: string;
  /** Milliseconds; undefined when the INFO gave none. */
  readonly durationMs?: number;
}

/** RFC 4733 §2.5.1.1: the media node sends 40 ms to 8 s. */
const MIN_MS = 40;
const MAX_MS = 8000;

/** The key an INFO carries; undefined for another body or one that names no key. */
export function dtmfKeyOf(method: string, content: Content): DtmfKey | undefined {
  if (method !== 'INFO') return undefined;
  const type = (content.contentType ?? '').split(';')[0]?.trim().toLowerCase();
  if (type === 'application/dtmf') return key(content.body.trim(), undefined);
  if (type !== 'application/dtmf-relay') return undefined;
  const fields = new Map<string, string>();
  for (const line of content.body.split(/\r?\n/)) {
    const at = line.indexOf('=');
    if (at > 0) fields.set(line.slice(0, at).trim().toLowerCase(), line.slice(at + 1).trim());
  }
  const duration = fields.get('duration');
  return key(fields.get('signal') ?? '', duration !== undefined && /^\d{1,6}$/.test(duration) ? Number(duration) : undefined);
}

function key(signal: string, durationMs: number | undefined): DtmfKey | undefined {
  // RFC 4733 §3.2 numbers the keys 0-15; some phones send the number of * (10) and # (11).
  const digit = signal === '10' ? '*' : signal === '11' ? '#' : signal.toUpperCase();
  if (!/^[0-9*#A-D]$/.test(digit)) return undefined;
  return { digit, ...(durationMs === undefined ? {} : { durationMs: Math.min(MAX_MS, Math.max(MIN_MS, durationMs)) }) };
}
