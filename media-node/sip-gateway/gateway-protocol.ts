/**
 * The frames of the SIP gateway's WebSocket, JSON text, one object per frame (see the README's
 * "SIP gateway" section for the whole protocol).
 *
 * Edge to gateway: `open` (first, and again after a reconnect), `send` (a SIP request or response
 * for the PBX), `close` (the link is done: the UDP socket is released).
 * Gateway to edge: `opened`, `received` (a SIP message from the PBX), `timeout` (Timer B/F: no
 * final response), `ack-timeout` (Timer H: no ACK for a final INVITE response), `send-failed`,
 * `error` (a frame the gateway refused).
 */
import { z } from 'zod';

export const edgeFrame = z.discriminatedUnion('type', [
  z.strictObject({
    type: z.literal('open'),
    pbx: z.strictObject({ host: z.string().min(1).max(255), port: z.number().int().min(1).max(65535) }),
  }),
  z.strictObject({
    type: z.literal('send'),
    /** Echoed in `timeout`, `ack-timeout` and `send-failed` about this message. */
    id: z.string().min(1).max(128).optional(),
    message: z.string().min(1).max(65_000),
  }),
  z.strictObject({ type: z.literal('close') }),
]);

export type EdgeFrame = z.infer<typeof edgeFrame>;

export interface TransportAddress {
  readonly address: string;
  readonly port: number;
}

export type GatewayFrame =
  | { readonly type: 'opened'; readonly local: TransportAddress; readonly pbx: TransportAddress; readonly resumed: boolean }
  | { readonly type: 'received'; readonly message: string; readonly from: TransportAddress }
  | { readonly type: 'timeout'; readonly id?: string; readonly method: string; readonly branch: string; readonly callId: string | undefined }
  | { readonly type: 'ack-timeout'; readonly id?: string; readonly callId: string | undefined; readonly cseq: number }
  | { readonly type: 'send-failed'; readonly id?: string; readonly detail: string }
  | { readonly type: 'error'; readonly reason: GatewayErrorReason; readonly detail: string };

export type GatewayErrorReason = 'invalid-frame' | 'not-open' | 'bad-sip' | 'pbx-unresolved' | 'no-udp-port';
