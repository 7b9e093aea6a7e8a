/** Caller-ID templates: placeholders are checked against the known variables and filled per user. */
import { describe, expect, it } from 'vitest';
import { renderTemplate, templateErrors } from '../../workers/routing/caller-id-template.ts';

const KNOWN = ['username', 'dialled', 'display_name', 'did'];

describe('caller-ID templates', () => {
  it('accepts templates over known variables', () => {
    expect(templateErrors('{display_name} (Sales)', KNOWN)).toEqual([]);
    expect(templateErrors('+4930555{did}', KNOWN)).toEqual([]);
    expect(templateErrors('plain text', KNOWN)).toEqual([]);
  });

  it('names an unknown placeholder', () => {
    expect(templateErrors('{department}', KNOWN)).toEqual(['unknown placeholder {department} (known: {username}, {dialled}, {display_name}, {did})']);
  });

  it('refuses braces outside a placeholder and names that are not variables', () => {
    expect(templateErrors('{did', KNOWN)).toEqual(['has an unmatched "{" or "}"']);
    expect(templateErrors('{9x}', KNOWN)).toEqual(['placeholder {9x} is not a variable name']);
  });

  it('fills placeholders and reports the first missing variable', () => {
    expect(renderTemplate('{display_name} <{did}>', { display_name: 'Alice', did: '100' })).toEqual({ ok: true, text: 'Alice <100>' });
    expect(renderTemplate('+49{did}', { display_name: 'Alice' })).toEqual({ ok: false, missing: 'did' });
  });

  it('does not read inherited properties as variables', () => {
    expect(renderTemplate('{constructor}', {})).toEqual({ ok: false, missing: 'constructor' });
  });
});
