/**
 * The methods the edge accepts, for Allow (RFC 3261 §20.5) in 200 to OPTIONS, in 405/501, and in
 * the INVITEs and 2xx the B2BUA sends on each leg. Presence (SUBSCRIBE, NOTIFY, PUBLISH) is
 * `workers/presence/`; REFER, NOTIFY (of a transfer) and PRACK only within calls (`workers/call/`).
 */
export const EDGE_ALLOW = 'REGISTER, INVITE, ACK, CANCEL, BYE, UPDATE, INFO, MESSAGE, OPTIONS, SUBSCRIBE, NOTIFY, PUBLISH';

/** What the edge, as the user agent of a call leg, accepts within a dialog (RFC 3261 §13.2.1). */
export const DIALOG_ALLOW = 'INVITE, ACK, CANCEL, BYE, UPDATE, INFO, MESSAGE, OPTIONS, REFER, NOTIFY';

/** In-dialog requests relayed end to end from one leg of a call to the other; BYE ends both legs instead. */
export const RELAYED_DIALOG_METHODS: ReadonlySet<string> = new Set(['INVITE', 'UPDATE', 'INFO', 'MESSAGE', 'OPTIONS', 'REFER', 'NOTIFY']);
