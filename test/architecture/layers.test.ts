/**
 * The SIP core's layering rule (STYLE.md): dependencies point down only, and `shared/` uses
 * Web-standard APIs only, so the same code runs in workerd and in Node. Checked on the sources.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve, dirname } from 'node:path';
import { describe, expect, it } from 'vitest';

const sharedRoot = resolve(import.meta.dirname, '../../shared');

/** Which layers each layer may import (besides itself). Anything not listed is a violation. */
const ALLOWED: Record<string, readonly string[]> = {
  '.': ['grammar', 'message', 'framing', 'auth', 'clock', 'transaction', 'dialog', 'sdp', 'signing'],
  grammar: [],
  message: ['grammar'],
  framing: ['message', 'grammar'],
  auth: [],
  clock: [],
  sdp: [],
  // The HMAC-signed requests between the edge and its media nodes: not SIP, imports nothing.
  signing: [],
  transaction: ['message', 'grammar', 'clock'],
  dialog: ['message', 'grammar', 'transaction', 'clock'],
};

const PACKAGES_ALLOWED = ['@noble/hashes/', 'sdp-transform'];

function sourceFiles(folder: string): string[] {
  return readdirSync(folder, { withFileTypes: true }).flatMap((entry) => {
    const path = join(folder, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

function layerOf(file: string): string {
  const parts = relative(sharedRoot, file).split('/');
  return parts.length === 1 ? '.' : (parts[0] ?? '.');
}

function importsOf(source: string): string[] {
  const found: string[] = [];
  for (const match of source.matchAll(/(?:^|\n)\s*(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]/g)) found.push(match[1] ?? '');
  for (const match of source.matchAll(/import\(\s*['"]([^'"]+)['"]\s*\)/g)) found.push(match[1] ?? '');
  return found;
}

function withoutComments(source: string): string {
  return source.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:])\/\/.*$/gm, '$1');
}

const files = sourceFiles(sharedRoot);

describe('the SIP core in shared/', () => {
  it('has source files to check', () => {
    expect(files.length).toBeGreaterThan(0);
  });

  it.each(files.map((file) => [relative(sharedRoot, file), file]))('%s imports only lower layers and allowed packages', (_name, file) => {
    const layer = layerOf(file);
    const violations = importsOf(readFileSync(file, 'utf8')).filter((specifier) => {
      if (specifier.startsWith('.')) {
        const target = resolve(dirname(file), specifier);
        if (!target.startsWith(sharedRoot + '/')) return true;
        const targetLayer = layerOf(target);
        return targetLayer !== layer && !(ALLOWED[layer] ?? []).includes(targetLayer);
      }
      return !PACKAGES_ALLOWED.some((allowed) => specifier === allowed || specifier.startsWith(allowed));
    });
    expect(violations).toEqual([]);
  });

  it.each(files.map((file) => [relative(sharedRoot, file), file]))('%s uses no timers, console, or Node/workerd globals', (_name, file) => {
    const code = withoutComments(readFileSync(file, 'utf8'));
    const forbidden = [/\bsetTimeout\s*\(/, /\bsetInterval\s*\(/, /\bconsole\./, /\bBuffer\b/, /\bprocess\./, /\brequire\s*\(/];
    expect(forbidden.filter((pattern) => pattern.test(code)).map(String)).toEqual([]);
  });
});
