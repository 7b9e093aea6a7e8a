/** Bencode (BitTorrent's encoding), as rtpengine's ng control protocol speaks it: enough for its messages. */

export type BValue = string | number | readonly BValue[] | { readonly [key: string]: BValue };

export function bencode(value: BValue): string {
  if (typeof value === 'number') return `i${Math.trunc(value)}e`;
  if (typeof value === 'string') return `${Buffer.byteLength(value)}:${value}`;
  if (Array.isArray(value)) return `l${value.map(bencode).join('')}e`;
  const entries = Object.entries(value as { readonly [key: string]: BValue }).sort(([a], [b]) => (a < b ? -1 : 1));
  return `d${entries.map(([key, item]) => bencode(key) + bencode(item)).join('')}e`;
}

/** Decodes one value from `data` (strings as UTF-8). */
export function bdecode(data: Buffer): BValue {
  const [value, end] = decodeAt(data, 0);
  if (end !== data.length) throw new Error(`bencode: ${data.length - end} trailing octets`);
  return value;
}

function decodeAt(data: Buffer, at: number): [BValue, number] {
  const kind = String.fromCharCode(data[at] ?? 0);
  if (kind === 'i') {
    const end = data.indexOf(0x65, at);
    return [Number(data.toString('latin1', at + 1, end)), end + 1];
  }
  if (kind === 'l') {
    const items: BValue[] = [];
    let next = at + 1;
    while (data[next] !== 0x65) {
      const [item, after] = decodeAt(data, next);
      items.push(item);
      next = after;
    }
    return [items, next + 1];
  }
  if (kind === 'd') {
    const dict: Record<string, BValue> = {};
    let next = at + 1;
    while (data[next] !== 0x65) {
      const [key, afterKey] = decodeAt(data, next);
      const [item, afterItem] = decodeAt(data, afterKey);
      dict[String(key)] = item;
      next = afterItem;
    }
    return [dict, next + 1];
  }
  const colon = data.indexOf(0x3a, at);
  if (colon < 0) throw new Error(`bencode: unexpected '${kind}' at ${at}`);
  const length = Number(data.toString('latin1', at, colon));
  return [data.toString('utf8', colon + 1, colon + 1 + length), colon + 1 + length];
}
