/**
 * A call's SIP ladder diagram (as sngrep or Wireshark's flow view draw it), from the per-user SIP
 * traces of `GET /api/v1/users/:u/trace`. Three lanes: the user's device, the edge, and the peer
 * (the other party's device, from the other user's trace, when the call was between two users of
 * the domain). Each message is a row: its time, an arrow between two lanes labelled with the
 * method or status, and a button that opens the full message text.
 */
import { el } from '../common/dom.ts';
import { apiJson } from './api.ts';

/** A record of the trace API (workers/trace/trace-record.ts). */
export interface TraceRecord {
  readonly at: number;
  readonly direction: 'in' | 'out';
  readonly transport: string;
  readonly flow: string;
  readonly remote?: string;
  readonly callId?: string;
  readonly summary: string;
  readonly message: string;
  readonly bytes: number;
}

export type Lane = 'device' | 'edge' | 'peer';

export interface LadderMessage {
  readonly at: number;
  readonly from: Lane;
  readonly to: Lane;
  readonly label: string;
  readonly kind: 'request' | 'response' | 'error';
  readonly text: string;
}

export interface TraceCall {
  readonly callId: string;
  readonly records: readonly TraceRecord[];
  /** The method of the first request (INVITE, MESSAGE, SUBSCRIBE, ...). */
  readonly method: string;
  /** The other party's user part, from To (the user sent the request) or From (the user received it). */
  readonly peer?: string;
}

/** Groups a trace by Call-ID, newest first; REGISTER and OPTIONS dialogs last. */
export function callsOf(records: readonly TraceRecord[]): TraceCall[] {
  const groups = new Map<string, TraceRecord[]>();
  for (const record of records) {
    if (record.callId === undefined) continue;
    const group = groups.get(record.callId) ?? [];
    group.push(record);
    groups.set(record.callId, group);
  }
  const calls = [...groups].map(([callId, group]): TraceCall => {
    const request = group.find((record) => !record.summary.startsWith('SIP/'));
    const method = request?.summary.split(' ', 1)[0] ?? 'response';
    const peer = request === undefined ? undefined : userOf(headerValue(request.message, request.direction === 'in' ? /^(?:to|t)[ \t]*:(.*)$/im : /^(?:from|f)[ \t]*:(.*)$/im));
    return { callId, records: group, method, ...(peer === undefined ? {} : { peer }) };
  });
  const housekeeping = (call: TraceCall): number => (call.method === 'REGISTER' || call.method === 'OPTIONS' ? 1 : 0);
  return calls.sort((a, b) => housekeeping(a) - housekeeping(b) || (b.records[0]?.at ?? 0) - (a.records[0]?.at ?? 0));
}

/** A user's trace records, oldest first: all of them since `since`, or one call's (`callId`). */
export async function readTrace(username: string, since = 0, callId?: string): Promise<TraceRecord[]> {
  const query = `limit=2000${since > 0 ? `&since=${since}` : ''}${callId === undefined ? '' : `&callId=${encodeURIComponent(callId)}`}`;
  const body = await apiJson<{ records: TraceRecord[] }>(`/users/${encodeURIComponent(username)}/trace?${query}`);
  return body.records;
}

/**
 * The peer's leg of `call`: in the peer's trace, the dialog whose first request names `user` and
 * that started within 10 s of the call.
 */
export function peerLeg(call: TraceCall, user: string, peerRecords: readonly TraceRecord[]): TraceCall | undefined {
  const start = call.records[0]?.at ?? 0;
  return callsOf(peerRecords).find((candidate) => candidate.method === call.method && candidate.peer === user && Math.abs((candidate.records[0]?.at ?? 0) - start) < 10_000);
}

export function ladderMessages(call: TraceCall, peer: TraceCall | undefined): LadderMessage[] {
  const messages = [
    ...call.records.map((record) => message(record, 'device')),
    ...(peer?.records ?? []).map((record) => message(record, 'peer')),
  ];
  return messages.sort((a, b) => a.at - b.at);
}

function message(record: TraceRecord, side: 'device' | 'peer'): LadderMessage {
  const response = /^SIP\/2\.0 (\d{3})(.*)$/.exec(record.summary);
  const status = response === null ? 0 : Number(response[1]);
  return {
    at: record.at,
    from: record.direction === 'in' ? side : 'edge',
    to: record.direction === 'in' ? 'edge' : side,
    label: response === null ? (record.summary.split(' ', 1)[0] ?? record.summary) : `${status}${response[2] ?? ''}`,
    kind: response === null ? 'request' : status >= 300 ? 'error' : 'response',
    text: record.message,
  };
}

const LANE_X: Readonly<Record<Lane, number>> = { device: 1 / 6, edge: 3 / 6, peer: 5 / 6 };

/** The diagram: a header with the three lanes, then one row per message. */
export function renderLadder(messages: readonly LadderMessage[], lanes: Readonly<Record<Lane, string>>): HTMLElement {
  const start = messages[0]?.at ?? 0;
  const head = el('div', { class: 'ladder-head', 'aria-hidden': 'true' }, el('span', {}, 'Time'), el('div', { class: 'lanes' }, el('span', {}, lanes.device), el('span', {}, lanes.edge), el('span', {}, lanes.peer)));
  const list = el('ol', { class: 'ladder', 'aria-label': 'Messages of the call, oldest first' });
  for (const item of messages) {
    const fromX = LANE_X[item.from];
    const toX = LANE_X[item.to];
    const left = Math.min(fromX, toX);
    const width = Math.abs(toX - fromX);
    const arrow = el('span', { class: 'arrow', 'data-kind': item.kind, 'data-to': toX > fromX ? 'right' : 'left', style: `left:${left * 100}%;width:${width * 100}%` });
    const label = el('span', { class: 'label', style: `left:${left * 100}%;width:${width * 100}%` }, item.label);
    const seconds = ((item.at - start) / 1000).toFixed(3);
    const row = el(
      'button',
      { type: 'button', class: 'row', 'aria-expanded': 'false', 'aria-label': `${seconds} s: ${item.label}, ${lanes[item.from]} to ${lanes[item.to]}` },
      el('span', { class: 'time' }, `+${seconds}`),
      el('span', { class: 'track', 'aria-hidden': 'true' }, arrow, label),
    );
    const text = el('pre', { hidden: '' }, item.text);
    row.addEventListener('click', () => {
      const open = row.getAttribute('aria-expanded') !== 'true';
      row.setAttribute('aria-expanded', String(open));
      text.hidden = !open;
    });
    list.append(el('li', { 'data-label': item.label }, row, text));
  }
  return el('div', { class: 'ladder-box' }, head, list);
}

function headerValue(message: string, pattern: RegExp): string | undefined {
  const head = message.split('\r\n\r\n', 1)[0] ?? '';
  return pattern.exec(head)?.[1]?.trim();
}

function userOf(address: string | undefined): string | undefined {
  if (address === undefined) return undefined;
  return /sips?:([^@;>]+)@/i.exec(address)?.[1];
}
