/**
 * dgram's address lookup, answering an IP literal at once. The default (`dns.lookup`) answers even
 * a literal on the next tick: a closure, a deferred send and a turn of the tick queue per packet.
 *
 * `literalLookup` is for sockets the node creates (the `lookup` option of `createSocket`).
 * `answerLiteralsAtOnce` fits the same to a socket created elsewhere (werift's ICE sockets, whose
 * packets the browser leg sends) through dgram's internal state; it returns false, leaving the
 * socket as it was, when that state is not shaped as in Node 22.
 */
import type { Socket } from 'node:dgram';
import { lookup, type LookupOneOptions } from 'node:dns';
import { isIP } from 'node:net';

type LookupCallback = (error: NodeJS.ErrnoException | null, address: string, family: number) => void;

export function literalLookup(hostname: string, options: LookupOneOptions, callback: LookupCallback): void {
  const family = isIP(hostname);
  if (family !== 0) callback(null, hostname, family);
  else lookup(hostname, options, callback);
}

/** The bound lookup dgram calls before each send: `handle.lookup(address, callback)`. */
type HandleLookup = (address: string, callback: LookupCallback) => void;

const fitted = new WeakSet<Socket>();

export function answerLiteralsAtOnce(socket: Socket): boolean {
  if (fitted.has(socket)) return true;
  const state = Object.getOwnPropertySymbols(socket).find((symbol) => symbol.description === 'state symbol');
  const handle = state === undefined ? undefined : ((socket as unknown as Record<symbol, { handle?: { lookup?: HandleLookup } } | undefined>)[state]?.handle);
  const original = handle?.lookup;
  if (handle === undefined || typeof original !== 'function') return false;
  handle.lookup = (address, callback) => {
    const family = isIP(address);
    if (family !== 0) callback(null, address, family);
    else original.call(handle, address, callback);
  };
  fitted.add(socket);
  return true;
}
