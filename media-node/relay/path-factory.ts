/** Builds the path one direction needs, from the formats of the leg it leaves and the leg it enters. */
import type { OpusEncoderOptions } from '../codec/index.ts';
import type { JitterBufferOptions } from '../jitter/index.ts';
import { G711ToOpusPath } from './g711-to-opus-path.ts';
import type { LegFormats } from './leg-formats.ts';
import type { MediaPath, OutboundLeg } from './media-path.ts';
import { OpusToG711Path } from './opus-to-g711-path.ts';
import { PassThroughPath } from './pass-through-path.ts';
import { MediaSessionError, g711Law, pathKind } from './session-negotiation.ts';

export interface PathSpec {
  readonly incoming: LegFormats;
  readonly outgoing: LegFormats;
  readonly out: OutboundLeg;
  /** The outgoing stream's SSRC and random starting counters. */
  readonly stream: { readonly ssrc: number; readonly firstSequenceNumber: number; readonly firstTimestamp: number };
  readonly jitterBuffer?: Omit<JitterBufferOptions, 'clockRate'> | undefined;
  readonly opus?: OpusEncoderOptions | undefined;
}

export function createPath(spec: PathSpec): MediaPath {
  const { incoming, outgoing, out, stream } = spec;
  switch (pathKind(incoming.audio, outgoing.audio)) {
    case 'pass-through':
      return new PassThroughPath({ incoming, outgoing, out, stream });
    case 'opus-to-g711':
      return new OpusToG711Path({
        incoming,
        outgoing,
        out,
        stream,
        law: g711Law(outgoing.audio) ?? 'pcmu',
        ...(spec.jitterBuffer === undefined ? {} : { jitterBuffer: spec.jitterBuffer }),
      });
    case 'g711-to-opus':
      return new G711ToOpusPath({ incoming, outgoing, out, stream, law: g711Law(incoming.audio) ?? 'pcmu', ...(spec.opus === undefined ? {} : { opus: spec.opus }) });
    case undefined:
      throw new MediaSessionError('no-common-codec', `no path from ${incoming.audio.name} to ${outgoing.audio.name}`);
  }
}
