/**
 * Payload type numbers are per leg: each side's SDP binds its own dynamic numbers (96-127) to
 * formats (RFC 3551 §3, RFC 8866 §6.6 `a=rtpmap`). A browser may offer telephone-event/8000 as 126
 * where the PBX uses 101 (RFC 4733), and Opus as 111 where another browser uses 109. A relay
 * that passes packets through rewrites the number on the way, and drops any format the outgoing
 * leg did not negotiate.
 */

/** One negotiated format on one leg, as an `a=rtpmap` line states it. */
export interface RtpFormat {
  readonly payloadType: number;
  /** Encoding name, compared case-insensitively (RFC 8866 §6.6). */
  readonly encodingName: string;
  readonly clockRate: number;
  /** Audio channels; absent means one (RFC 8866 §6.6). */
  readonly channels?: number;
}

const UNMAPPED = -1;

export class PayloadTypeMap {
  readonly #targets = new Int16Array(128).fill(UNMAPPED);

  constructor(pairs: Iterable<readonly [from: number, to: number]> = []) {
    for (const [from, to] of pairs) this.set(from, to);
  }

  /**
   * Pairs every incoming format with the outgoing format of the same name, clock rate and channel
   * count. Telephone events only pair at equal clock rates, as RFC 4733 has an event stream share
   * its audio's clock; converting between rates is the transcoding path's work, not this map's.
   */
  static matching(incoming: readonly RtpFormat[], outgoing: readonly RtpFormat[]): PayloadTypeMap {
    const map = new PayloadTypeMap();
    for (const format of incoming) {
      const partner = outgoing.find((candidate) => sameFormat(candidate, format));
      if (partner) map.set(format.payloadType, partner.payloadType);
    }
    return map;
  }

  set(from: number, to: number): void {
    checkPayloadType(from);
    checkPayloadType(to);
    this.#targets[from] = to;
  }

  /** The outgoing payload type, or undefined if the outgoing leg has no such format (drop it). */
  map(payloadType: number): number | undefined {
    const target = this.#targets[payloadType & 0x7f] as number;
    return target === UNMAPPED ? undefined : target;
  }
}

export function sameFormat(a: RtpFormat, b: RtpFormat): boolean {
  return (
    a.encodingName.toLowerCase() === b.encodingName.toLowerCase() && a.clockRate === b.clockRate && (a.channels ?? 1) === (b.channels ?? 1)
  );
}

function checkPayloadType(payloadType: number): void {
  if (!Number.isInteger(payloadType) || payloadType < 0 || payloadType > 127) {
    throw new RangeError(`an RTP payload type is 0-127, not ${payloadType}`);
  }
}
