import { describe, expect, it } from 'vitest';
import { readCsv, type CsvRecord } from '../../workers/api/csv.ts';

const read = (text: string): CsvRecord[] => [...readCsv(text)];

describe('readCsv (RFC 4180)', () => {
  it('reads plain records with LF, CRLF and lone CR line breaks, and a last line without one', () => {
    expect(read('a,b\nc,d\r\ne,f\rg,h')).toEqual([
      { line: 1, fields: ['a', 'b'] },
      { line: 2, fields: ['c', 'd'] },
      { line: 3, fields: ['e', 'f'] },
      { line: 4, fields: ['g', 'h'] },
    ]);
  });

  it('keeps empty fields and spaces, skips empty lines, drops a byte-order mark', () => {
    expect(read('\ufeffa, b ,\n\n\r\n,x\n')).toEqual([
      { line: 1, fields: ['a', ' b ', ''] },
      { line: 4, fields: ['', 'x'] },
    ]);
  });

  it('reads quoted fields holding commas, doubled quotes and line breaks, and counts those lines', () => {
    expect(read('"a,1","say ""hi""","two\r\nlines"\n"",z\n"x\ny\nz",last\nnext,1')).toEqual([
      { line: 1, fields: ['a,1', 'say "hi"', 'two\r\nlines'] },
      { line: 3, fields: ['', 'z'] },
      { line: 4, fields: ['x\ny\nz', 'last'] },
      { line: 7, fields: ['next', '1'] },
    ]);
  });

  it('keeps UTF-8 text as it is', () => {
    expect(read('zoë,"Zoë Ångström, 日本"\n')).toEqual([{ line: 1, fields: ['zoë', 'Zoë Ångström, 日本'] }]);
  });

  it('reports a quote inside an unquoted field and text after a closing quote, then goes on', () => {
    expect(read('ok,1\nba"d,2\n"x"y,3\nfine,4')).toEqual([
      { line: 1, fields: ['ok', '1'] },
      { line: 2, error: expect.stringContaining('field 1 holds a quote but is not quoted') },
      { line: 3, error: expect.stringContaining('field 1 has text after its closing quote') },
      { line: 4, fields: ['fine', '4'] },
    ]);
  });

  it('ends at a quote that never closes, naming the line it opened on', () => {
    expect(read('a,1\nb,"open\nc,3\n')).toEqual([
      { line: 1, fields: ['a', '1'] },
      { line: 2, error: 'field 2 opens a quote that is never closed' },
    ]);
  });

  it('reads nothing from an empty text', () => {
    expect(read('')).toEqual([]);
    expect(read('\n\r\n')).toEqual([]);
  });
});
