/**
 * `npm run bench:sip`: how fast sipedge parses and writes SIP, next to SIP.js's own parser, in one run.
 *
 * The corpus is what a softphone and a PBX exchange for one registration and one call (see
 * `test/support/arbitraries/sip-corpus.ts`). Every operation is sampled in turn, interleaved with
 * the others, so that a burst of load from elsewhere on the machine hits them all alike; the
 * figure reported is the median sample. Compare ratios, not absolute numbers: this machine's
 * figures swing by up to 30 % between identical runs (see BENCHMARKS.md).
 *
 * Prints a table for people and, as the last line, one JSON object for scripts.
 */

import { LoggerFactory } from 'sip.js/lib/core/log/logger-factory.js';
import { Parser } from 'sip.js/lib/core/messages/parser.js';
import {
  getCSeq,
  getCallId,
  getContacts,
  getFrom,
  getTo,
  getVia,
  parseMessage,
  parseMessageBytes,
  serializeMessage,
  type SipMessage,
} from '../../shared/message/index.ts';
import { CORPUS } from '../support/arbitraries/sip-corpus.ts';

const SAMPLES = 9;
const SAMPLE_MS = 120;
const WARM_UP_MS = 300;

const encoder = new TextEncoder();
const loggerFactory = new LoggerFactory();
loggerFactory.builtinEnabled = false;
const sipJsLogger = loggerFactory.getLogger('bench');

const texts = CORPUS.map((entry) => entry.text);
const octets = texts.map((text) => encoder.encode(text));
const parsed: SipMessage[] = texts.map((text) => parseMessage(text));

/** Keeps every result alive, so the JIT cannot drop the work as unused. */
let sink = 0;

function readTypedHeaders(message: SipMessage): number {
  const contacts = getContacts(message);
  return (
    getVia(message).length +
    (getFrom(message)?.uri.kind.length ?? 0) +
    (getTo(message)?.uri.kind.length ?? 0) +
    (getCSeq(message)?.seq ?? 0) +
    (contacts === '*' ? 1 : contacts.length) +
    (getCallId(message)?.length ?? 0)
  );
}

function sipJsParse(text: string): number {
  const message = Parser.parseMessage(text, sipJsLogger);
  if (message === undefined) throw new Error('sip.js refused a corpus message');
  return message.headers['Via']?.length ?? 0;
}

interface Operation {
  readonly key: string;
  readonly label: string;
  /** Handles message `i` of the corpus. */
  readonly run: (i: number) => number;
}

const OPERATIONS: readonly Operation[] = [
  { key: 'sipedgeParse', label: 'sipedge parseMessage (text)', run: (i) => parseMessage(texts[i]!).headers.length },
  { key: 'sipedgeParseBytes', label: 'sipedge parseMessageBytes', run: (i) => parseMessageBytes(octets[i]!).headers.length },
  {
    key: 'sipedgeParseTyped',
    label: 'sipedge parse + Via/From/To/CSeq/Contact/Call-ID',
    run: (i) => readTypedHeaders(parseMessage(texts[i]!)),
  },
  { key: 'sipedgeSerialize', label: 'sipedge serializeMessage', run: (i) => serializeMessage(parsed[i]!).length },
  { key: 'sipJsParse', label: 'sip.js Parser.parseMessage', run: (i) => sipJsParse(texts[i]!) },
];

/** Runs whole passes over `inputs` for about `ms` milliseconds; returns messages per second. */
function sample(run: (i: number) => number, inputs: readonly number[], ms: number): number {
  let messages = 0;
  const started = performance.now();
  let elapsed = 0;
  do {
    for (let pass = 0; pass < 16; pass += 1) {
      for (const i of inputs) sink += run(i);
    }
    messages += 16 * inputs.length;
    elapsed = performance.now() - started;
  } while (elapsed < ms);
  return (messages / elapsed) * 1000;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

/** Median messages/s of each operation over `inputs`, sampled interleaved. */
function measure(operations: readonly Operation[], inputs: readonly number[], samples: number, ms: number): Map<string, number> {
  for (const operation of operations) sample(operation.run, inputs, WARM_UP_MS);
  const results = new Map<string, number[]>(operations.map((operation) => [operation.key, []]));
  for (let s = 0; s < samples; s += 1) {
    for (const operation of operations) results.get(operation.key)!.push(sample(operation.run, inputs, ms));
  }
  return new Map([...results].map(([key, values]) => [key, median(values)]));
}

function checkCorpus(): void {
  texts.forEach((text, i) => {
    if (serializeMessage(parsed[i]!) !== text) throw new Error(`sipedge does not round-trip ${CORPUS[i]!.name}`);
    sipJsParse(text);
  });
}

const format = (value: number, digits = 0): string =>
  value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });

function main(): void {
  checkCorpus();
  const all = texts.map((_, i) => i);
  const overall = measure(OPERATIONS, all, SAMPLES, SAMPLE_MS);
  const sipJs = overall.get('sipJsParse')!;

  const perMessageOps = OPERATIONS.filter((operation) => operation.key === 'sipedgeParse' || operation.key === 'sipJsParse');
  const perMessage = CORPUS.map((entry, i) => {
    const figures = measure(perMessageOps, [i], 5, 80);
    return {
      name: entry.name,
      bytes: octets[i]!.length,
      sipedgeParse: figures.get('sipedgeParse')!,
      sipJsParse: figures.get('sipJsParse')!,
    };
  });

  const lines: string[] = [];
  lines.push(`sipedge SIP parse benchmark, Node ${process.version}, median of ${SAMPLES} interleaved samples of ${SAMPLE_MS} ms`);
  lines.push(`corpus: ${CORPUS.map((entry, i) => `${entry.name} ${octets[i]!.length} B`).join(', ')}`);
  lines.push('');
  const row = (cells: readonly string[], widths: readonly number[]): string =>
    cells.map((cell, i) => (i === 0 ? cell.padEnd(widths[0]!) : cell.padStart(widths[i]!))).join('');
  const overallWidths = [52, 12, 10, 18];
  lines.push(row(['operation (whole corpus, round robin)', 'msgs/s', 'us/msg', 'vs sip.js parse'], overallWidths));
  for (const operation of OPERATIONS) {
    const rate = overall.get(operation.key)!;
    lines.push(row([operation.label, format(rate), format(1e6 / rate, 2), `${format(rate / sipJs, 2)}x`], overallWidths));
  }
  lines.push('');
  lines.push('sip.js parses Via, From, To, CSeq, Call-ID and Contact eagerly, so its parse compares with');
  lines.push("sipedge's parse + typed headers. Its generated grammar (peggy) rebuilds its tables on every");
  lines.push('Grammar.parse call (0.2-0.7 ms each, several per message), which is most of its time.');
  lines.push("sip.js's toString() returns the received text unchanged, so no sip.js serialise is timed.");
  lines.push('');
  const perMessageWidths = [28, 8, 16, 16, 9];
  lines.push(row(['parse, per message', 'bytes', 'sipedge msgs/s', 'sip.js msgs/s', 'ratio'], perMessageWidths));
  for (const entry of perMessage) {
    const ratio = `${format(entry.sipedgeParse / entry.sipJsParse, 2)}x`;
    const cells = [entry.name, String(entry.bytes), format(entry.sipedgeParse), format(entry.sipJsParse), ratio];
    lines.push(row(cells, perMessageWidths));
  }
  if (sink === Number.NEGATIVE_INFINITY) lines.push('unreachable');
  process.stdout.write(`${lines.join('\n')}\n`);

  const round = (value: number): number => Math.round(value);
  const ratio = (value: number): number => Math.round(value * 100) / 100;
  const json = {
    benchmark: 'sip-parse',
    node: process.version,
    unit: 'messages/s',
    sipedgeParse: round(overall.get('sipedgeParse')!),
    sipedgeParseBytes: round(overall.get('sipedgeParseBytes')!),
    sipedgeParseTyped: round(overall.get('sipedgeParseTyped')!),
    sipedgeSerialize: round(overall.get('sipedgeSerialize')!),
    sipJsParse: round(sipJs),
    ratios: {
      parseVsSipJs: ratio(overall.get('sipedgeParse')! / sipJs),
      parseBytesVsSipJs: ratio(overall.get('sipedgeParseBytes')! / sipJs),
      parseTypedVsSipJs: ratio(overall.get('sipedgeParseTyped')! / sipJs),
      serializeVsSipJsParse: ratio(overall.get('sipedgeSerialize')! / sipJs),
    },
    goalParseAtLeast3xSipJs: overall.get('sipedgeParse')! / sipJs >= 3,
    perMessage: perMessage.map((row) => ({
      name: row.name,
      bytes: row.bytes,
      sipedgeParse: round(row.sipedgeParse),
      sipJsParse: round(row.sipJsParse),
      ratio: ratio(row.sipedgeParse / row.sipJsParse),
    })),
  };
  process.stdout.write(`${JSON.stringify(json)}\n`);
}

main();
