/**
 * The presence document the edge composes when a user's devices publish nothing (RFC 3856 §6.6,
 * PIDF RFC 3863 §4): one tuple whose basic status is `open` while some device is registered and
 * `closed` when none is.
 */
export type BasicStatus = 'open' | 'closed';

/** `options`: the tuple's id, and a note (RFC 3863 §4.1.6) for presence set through the API. */
export function pidfDocument(entity: string, basic: BasicStatus, options: { readonly tupleId?: string; readonly note?: string } = {}): string {
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<presence xmlns="urn:ietf:params:xml:ns:pidf" entity="${xmlEscape(entity)}">`,
    `  <tuple id="${xmlEscape(options.tupleId ?? 'sipedge-registration')}">`,
    `    <status><basic>${basic}</basic></status>`,
    `    <contact>${xmlEscape(entity)}</contact>`,
    ...(options.note === undefined ? [] : [`    <note>${xmlEscape(options.note)}</note>`]),
    '  </tuple>',
    '</presence>',
    '',
  ].join('\r\n');
}

/** XML 1.0 §2.4: text and attribute values with the five markup characters escaped. */
export function xmlEscape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');
}
