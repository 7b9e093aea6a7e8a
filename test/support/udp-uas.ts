/**
 * A small SIP user agent server on UDP, built only from the project's SIP core: datagrams are parsed
 * with `parseMessageBytes`, every request goes through the transaction table (RFC 3261 §17.2), and
 * the table's one timer deadline is kept by one real Node timer, as a Durable Object keeps it with
 * its one alarm. It answers INVITE with 180 then 200 (with SDP), BYE and OPTIONS with 200, and any
 * other method with 501. Integration tests point real peers (sipp) at it.
 */
import { createSocket, type RemoteInfo } from 'node:dgram';
import {
  createResponse,
  getTo,
  parseMessageBytes,
  SipParseError,
  withBody,
  type SipRequest,
} from '../../shared/message/index.ts';
import {
  emptyTransactionTable,
  fireDueTimers,
  nextTimerDeadline,
  receiveRequest,
  sendResponse,
  type TableResult,
} from '../../shared/transaction/index.ts';

export interface UasStats {
  invites: number;
  acks: number;
  byes: number;
  parseErrors: number;
  retransmissionsAbsorbed: number;
}

export interface RunningUas {
  readonly port: number;
  readonly stats: UasStats;
  stop(): Promise<void>;
}

const SDP = ['v=0', 'o=uas 1 1 IN IP4 127.0.0.1', 's=-', 'c=IN IP4 127.0.0.1', 't=0 0', 'm=audio 40000 RTP/AVP 0', 'a=rtpmap:0 PCMU/8000', ''].join('\r\n');

export async function startUdpUas(): Promise<RunningUas> {
  const socket = createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  const { port } = socket.address();
  const stats: UasStats = { invites: 0, acks: 0, byes: 0, parseErrors: 0, retransmissionsAbsorbed: 0 };
  let table = emptyTransactionTable;
  let timer: NodeJS.Timeout | undefined;
  let tags = 0;

  function send(wire: string, flow: string | undefined): void {
    if (flow === undefined) return;
    const separator = flow.lastIndexOf(':');
    socket.send(wire, Number(flow.slice(separator + 1)), flow.slice(0, separator));
  }

  function apply(result: TableResult): void {
    table = result.table;
    for (const action of result.actions) {
      if (action.type === 'send') send(action.wire, action.flow);
      else if (action.type === 'deliver' && action.message.kind === 'request') answer(action.key, action.message);
      else if (action.type === 'stray' && action.message.kind === 'request' && action.message.method === 'ACK') stats.acks++;
    }
    armTimer();
  }

  function answer(key: string, request: SipRequest): void {
    const now = Date.now();
    if (request.method === 'ACK') {
      stats.acks++;
      return;
    }
    const toTag = getTo(request)?.tag ?? `uas${++tags}`;
    const contact = [{ name: 'Contact', value: `<sip:uas@127.0.0.1:${port}>` }];
    if (request.method === 'INVITE') {
      stats.invites++;
      apply(sendResponse(table, key, createResponse(request, 180, undefined, { toTag }), now));
      const ok = createResponse(request, 200, undefined, { toTag, headers: contact });
      apply(sendResponse(table, key, withBody(ok, SDP, 'application/sdp'), now));
    } else if (request.method === 'BYE' || request.method === 'OPTIONS') {
      if (request.method === 'BYE') stats.byes++;
      apply(sendResponse(table, key, createResponse(request, 200, undefined, { toTag }), now));
    } else {
      const allow = [{ name: 'Allow', value: 'INVITE, ACK, BYE, OPTIONS' }];
      apply(sendResponse(table, key, createResponse(request, 501, undefined, { toTag, headers: allow }), now));
    }
  }

  function armTimer(): void {
    clearTimeout(timer);
    const deadline = nextTimerDeadline(table);
    if (deadline === undefined) return;
    timer = setTimeout(() => apply(fireDueTimers(table, Date.now())), Math.max(0, deadline - Date.now()));
  }

  socket.on('message', (datagram: Buffer, remote: RemoteInfo) => {
    let message;
    try {
      message = parseMessageBytes(new Uint8Array(datagram.buffer, datagram.byteOffset, datagram.byteLength));
    } catch (error) {
      if (!(error instanceof SipParseError)) throw error;
      stats.parseErrors++;
      return;
    }
    if (message.kind !== 'request') return;
    const before = Object.keys(table.transactions).length;
    const result = receiveRequest(table, message, { reliable: false, flow: `${remote.address}:${remote.port}` }, Date.now());
    if (message.method !== 'ACK' && Object.keys(result.table.transactions).length === before && result.actions.every((a) => a.type !== 'deliver')) {
      stats.retransmissionsAbsorbed++;
    }
    apply(result);
  });

  return {
    port,
    stats,
    stop: () =>
      new Promise<void>((resolve) => {
        clearTimeout(timer);
        socket.close(() => resolve());
      }),
  };
}
