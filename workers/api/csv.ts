/**
 * A small CSV reader (RFC 4180), for the operator API's bulk imports. No package in the tree reads
 * CSV and this one is a few dozen lines:
 *
 * - fields are separated by `,`, records by CRLF, LF or a lone CR;
 * - a field may be quoted with `"`; inside it `,`, line breaks and `""` (one quote) are data, and
 *   line breaks are kept as written;
 * - empty lines are skipped; a leading byte-order mark is dropped (spreadsheets write one);
 * - no trimming: spaces are data, as RFC 4180 §2.4 says.
 *
 * Records come one at a time, each with the line it starts on (1-based, counting line breaks inside
 * quoted fields), so that a caller can stop early and name lines in its errors. A malformed record
 * (a quote inside an unquoted field, text after a closing quote) comes as an error and reading goes
 * on with the next record; a quoted field that never closes swallows the rest of the text and ends
 * the reading.
 */

export type CsvRecord =
  | { readonly line: number; readonly fields: readonly string[] }
  | { readonly line: number; readonly error: string };

const LINE_BREAK = /\r\n|\r|\n/g;

function lineBreaks(text: string): number {
  return text.match(LINE_BREAK)?.length ?? 0;
}

function isRecordEnd(char: string | undefined): boolean {
  return char === undefined || char === '\n' || char === '\r';
}

export function* readCsv(text: string): Generator<CsvRecord, void, undefined> {
  const end = text.length;
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  let line = 1;
  while (i < end) {
    const start = line;
    const fields: string[] = [];
    let error: string | undefined;
    for (;;) {
      if (text[i] === '"') {
        // A quoted field: up to the quote that is not doubled.
        let value = '';
        let at = i + 1;
        let closed = false;
        for (;;) {
          const quote = text.indexOf('"', at);
          if (quote === -1) break;
          value += text.slice(at, quote);
          if (text[quote + 1] === '"') {
            value += '"';
            at = quote + 2;
          } else {
            at = quote + 1;
            closed = true;
            break;
          }
        }
        if (!closed) {
          yield { line: start, error: `field ${fields.length + 1} opens a quote that is never closed` };
          return;
        }
        line += lineBreaks(value);
        fields.push(value);
        i = at;
        if (text[i] !== ',' && !isRecordEnd(text[i])) {
          error ??= `field ${fields.length} has text after its closing quote (double a quote inside a quoted field: "")`;
          while (text[i] !== ',' && !isRecordEnd(text[i])) i += 1;
        }
      } else {
        let at = i;
        while (text[at] !== ',' && !isRecordEnd(text[at])) at += 1;
        const value = text.slice(i, at);
        if (value.includes('"')) error ??= `field ${fields.length + 1} holds a quote but is not quoted (quote the field and double the quote: "a ""b""")`;
        fields.push(value);
        i = at;
      }
      if (text[i] === ',') {
        i += 1;
        continue;
      }
      // The end of the record: a line break or the end of the text.
      if (text[i] === '\r') {
        i += text[i + 1] === '\n' ? 2 : 1;
        line += 1;
      } else if (text[i] === '\n') {
        i += 1;
        line += 1;
      }
      break;
    }
    if (error !== undefined) yield { line: start, error };
    else if (!(fields.length === 1 && fields[0] === '')) yield { line: start, fields };
  }
}
