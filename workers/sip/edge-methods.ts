/**
 * The methods the edge accepts today, for Allow (RFC 3261 §20.5) in 200 to OPTIONS and in 405/501.
 * Grows with the rest of issue 3: INVITE, ACK, CANCEL, BYE, MESSAGE, SUBSCRIBE, ...
 */
export const EDGE_ALLOW = 'REGISTER, OPTIONS';
