import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { StreamFramer, classifyWebSocketFrame, type FrameEvent } from '../../../shared/framing/index.ts';
import { SipParseError, parseMessageBytes, serializeMessageBytes } from '../../../shared/message/index.ts';
import { ALL_FIXTURES } from '../../support/arbitraries/sip-corpus.ts';
import { chunk, concatBytes, cutsArb } from '../../support/arbitraries/chunking.ts';
import { messageArb } from '../../support/arbitraries/sip-message.ts';
import { mutatedArb } from '../../support/arbitraries/mutation.ts';
import { propertyRuns, propertyTimeout } from '../../support/arbitraries/property-runs.ts';

const encoder = new TextEncoder();

function frameAll(chunks: readonly Uint8Array[]): FrameEvent[] {
  const framer = new StreamFramer();
  return chunks.flatMap((part) => framer.push(part));
}

const messagesOf = (events: readonly FrameEvent[]): Uint8Array[] =>
  events.flatMap((event) => (event.kind === 'message' ? [event.bytes] : []));

const CAPTURED_RUNS = propertyRuns(2_000);
/** Generating messages dominates (~0.9 ms each, up to three per case). */
const GENERATED_RUNS = propertyRuns(1_000);
const GARBAGE_RUNS = propertyRuns(5_000);

/** What arrives between messages: nothing, or keep-alives. */
const gapArb = fc.constantFrom('', '', '\r\n', '\r\n\r\n', '\r\n\r\n\r\n');

describe('stream framing properties', () => {
  const capturedTimeout = propertyTimeout(CAPTURED_RUNS, 0.3);
  it('yields the captured messages, in order, however the stream is cut into chunks', { timeout: capturedTimeout }, () => {
    const streamArb = fc.array(fc.tuple(gapArb, fc.constantFrom(...ALL_FIXTURES)), { minLength: 1, maxLength: 5 });
    fc.assert(
      fc.property(streamArb, cutsArb, (parts, cuts) => {
        const messages = parts.map(([, text]) => encoder.encode(text));
        const stream = concatBytes(parts.flatMap(([gap], i) => [encoder.encode(gap), messages[i] ?? new Uint8Array(0)]));
        const events = frameAll(chunk(stream, cuts));
        expect(events.some((event) => event.kind === 'error')).toBe(false);
        expect(messagesOf(events)).toEqual(messages);
      }),
      { numRuns: CAPTURED_RUNS },
    );
  });

  const generatedTimeout = propertyTimeout(GENERATED_RUNS, 3);
  it('yields each serialised message whole, however its bytes are cut into chunks', { timeout: generatedTimeout }, () => {
    fc.assert(
      fc.property(fc.array(messageArb({ body: 'binary' }), { minLength: 1, maxLength: 3 }), cutsArb, (generated, cuts) => {
        const messages = generated.map(({ message }) => serializeMessageBytes(message));
        const events = frameAll(chunk(concatBytes(messages), cuts));
        expect(events).toEqual(messages.map((bytes) => ({ kind: 'message', bytes })));
      }),
      { numRuns: GENERATED_RUNS },
    );
  });

  it('takes any serialised message as one WebSocket message, text or binary', { timeout: generatedTimeout }, () => {
    fc.assert(
      fc.property(messageArb({ body: 'text' }), ({ message }) => {
        const bytes = serializeMessageBytes(message);
        expect(classifyWebSocketFrame(bytes)).toEqual({ kind: 'message', bytes });
        expect(classifyWebSocketFrame(new TextDecoder().decode(bytes))).toEqual({ kind: 'message', bytes });
      }),
      { numRuns: GENERATED_RUNS },
    );
  });

  const damagedTimeout = propertyTimeout(GARBAGE_RUNS, 0.2);
  it('frames a damaged stream without throwing, and yields only what the parser accepts or refuses cleanly', { timeout: damagedTimeout }, () => {
    const streamArb = fc
      .array(fc.constantFrom(...ALL_FIXTURES), { minLength: 1, maxLength: 3 })
      .map((texts) => encoder.encode(texts.join('')));
    fc.assert(
      fc.property(mutatedArb(streamArb), cutsArb, (stream, cuts) => {
        for (const event of frameAll(chunk(stream, cuts))) {
          if (event.kind !== 'message') continue;
          try {
            parseMessageBytes(event.bytes);
          } catch (error) {
            expect(error).toBeInstanceOf(SipParseError);
          }
        }
      }),
      { numRuns: GARBAGE_RUNS },
    );
  });

  const garbageTimeout = propertyTimeout(GARBAGE_RUNS, 0.1);
  it('never throws on arbitrary octets, and reports at most one error, last', { timeout: garbageTimeout }, () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 6 }), (chunks) => {
        const events = frameAll(chunks);
        const errors = events.filter((event) => event.kind === 'error');
        expect(errors.length).toBeLessThanOrEqual(1);
        if (errors.length === 1) expect(events.at(-1)).toBe(errors[0]);
      }),
      { numRuns: GARBAGE_RUNS },
    );
  });
});
