/**
 * The seam between a call's two legs and the paths that carry media between them. A path takes the
 * packets of one direction as they arrive from one leg and sends what it makes of them to the other
 * leg; a leg's own details (werift objects, sockets) stay behind these two shapes.
 */
import { TELEPHONE_EVENT_SIZE, writeTelephoneEvent, type RtpHeaderRewrite, type TelephoneEvent } from '../rtp/index.ts';

/** One RTP packet from a leg, header already validated and read. */
export interface InboundPacket {
  readonly payloadType: number;
  readonly sequenceNumber: number;
  readonly timestamp: number;
  readonly ssrc: number;
  readonly marker: boolean;
  /** The payload alone (no header, no padding); the path may keep it. */
  readonly payload: Uint8Array;
}

/** Where a path sends: the outgoing leg. Returns false when the leg could not send (counted there). */
export interface OutboundLeg {
  send(header: RtpHeaderRewrite, payload: Uint8Array): boolean;
}

/** Why a path did not forward a packet. */
export type PathDropReason =
  /** A payload type the outgoing leg has no counterpart for. */
  | 'unmapped-payload-type'
  /** A telephone-event whose clock the outgoing leg's events do not share. */
  | 'telephone-event-clock'
  /** Older than where its source started, or a duplicate the stateful coder must not see again. */
  | 'out-of-order'
  /** Arrived from a party the current direction (hold) says is not sending to the other. */
  | 'held'
  /** The jitter buffer refused it: late or duplicate. */
  | 'jitter-buffer'
  /** The outgoing leg could not send it. */
  | 'not-sent';

export interface PathCounters {
  /** Packets handed to the outgoing leg. */
  forwarded: number;
  /** RFC 4733 event packets among them. */
  telephoneEvents: number;
  dropped: Record<PathDropReason, number>;
}

export function emptyPathCounters(): PathCounters {
  return {
    forwarded: 0,
    telephoneEvents: 0,
    dropped: {
      'unmapped-payload-type': 0,
      'telephone-event-clock': 0,
      'out-of-order': 0,
      held: 0,
      'jitter-buffer': 0,
      'not-sent': 0,
    },
  };
}

/**
 * Sends one RFC 4733 packet of the node's own (`dtmf-sender.ts`) on `out` and counts it: the
 * paths differ only in where the packet's sequence number and timestamp come from.
 */
export function sendOwnTelephoneEvent(
  out: OutboundLeg,
  counters: PathCounters,
  event: TelephoneEvent,
  header: RtpHeaderRewrite,
): boolean {
  const payload = new Uint8Array(TELEPHONE_EVENT_SIZE);
  writeTelephoneEvent(event, payload);
  if (!out.send(header, payload)) {
    counters.dropped['not-sent']++;
    return false;
  }
  counters.forwarded++;
  counters.telephoneEvents++;
  return true;
}

/** One direction of a call. */
export interface MediaPath {
  readonly kind: MediaPathKind;
  readonly counters: PathCounters;
  /** A packet from the incoming leg, arrived at `nowMs`. */
  onPacket(packet: InboundPacket, nowMs: number): void;
  /** The 20 ms frame clock (only paths that time their own output do anything). */
  onFrame(nowMs: number): void;
  /** Playout delay the path adds, for the quality estimate; 0 for paths that forward at once. */
  readonly bufferDelayMs: number;
  /**
   * Sends an RFC 4733 event packet of the node's own (`dtmf-sender.ts`) in the outgoing stream, with
   * the outgoing leg's telephone-event payload type; `start` anchors a new event at the stream's
   * current timestamp. False when the outgoing leg has no telephone-event or could not send.
   */
  sendTelephoneEvent(event: TelephoneEvent, start: boolean, nowMs: number): boolean;
}

export type MediaPathKind = 'pass-through' | 'opus-to-g711' | 'g711-to-opus';
