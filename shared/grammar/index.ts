/** The SIP grammar (RFC 3261 §25 and its extensions): typed parse and serialise for header parts. */
export { SipSyntaxError } from './syntax-error.ts';
export { parseCallId } from './call-id.ts';
export { MAX_CSEQ, parseCSeq, readUint, serializeCSeq, type CSeq } from './cseq.ts';
export { isHost, isHostname, isIpv4Address, isIpv6Address, isIpv6Reference, normalizeIpAddress, parsePort } from './host.ts';
export { splitList, splitListRanges, type ListRange } from './list.ts';
export { parseMediaRanges, parseMediaType, serializeMediaType, type MediaType } from './media-type.ts';
export { parseNameAddr, parseNameAddrList, serializeNameAddr, type NameAddr } from './name-addr.ts';
export { getParam, hasParam, paramValue, parseParams, serializeParams, withoutParam, withParam, type Param } from './params.ts';
export { escapeUri, unescapeUri } from './percent-encoding.ts';
export { isToken } from './char-class.ts';
export { quote, unquote } from './text-scan.ts';
export { parseUri, serializeUri, type AbsoluteUri, type SipUri, type TelUri, type Uri, type UriHeader } from './uri.ts';
export { parseVia, serializeVia, viaBranch, type Via, type ViaParts } from './via.ts';
