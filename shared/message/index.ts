/** The SIP message layer: parse, serialise, header access and editing, request checks. */
export type { HeaderField, SipMessage, SipRequest, SipResponse } from './message.ts';
export { SipParseError, type SipParseErrorOptions } from './parse-error.ts';
export { parseMessage, parseMessageBytes } from './parse.ts';
export { serializeHead, serializeMessage, serializeMessageBytes, withBody } from './serialize.ts';
export {
  COMPACT_FORMS,
  appendHeader,
  canonicalHeaderName,
  getHeader,
  getHeaderFields,
  getHeaders,
  hasHeader,
  headerKey,
  isListHeader,
  prependHeader,
  removeHeader,
  setHeader,
} from './headers.ts';
export {
  getCSeq,
  getCallId,
  getContacts,
  getContentLength,
  getContentType,
  getExpires,
  getFrom,
  getMaxForwards,
  getOptionTags,
  getRoutes,
  getTo,
  getTopVia,
  getVia,
  type AddressHeader,
} from './typed-headers.ts';
export { createResponse, type CreateResponseOptions } from './create-response.ts';
export { reasonPhrase } from './reason-phrases.ts';
export { DEFAULT_METHODS, checkRequest, type ElementRole, type RequestCheckOptions, type RequestRejection } from './request-check.ts';
export { checkResponse, type ResponseCheckOptions, type ResponseDiscard } from './response-check.ts';
export { markReceived } from './via-received.ts';
