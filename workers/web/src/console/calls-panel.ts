/**
 * The console's Calls panel: live and recent calls from `GET /api/v1/calls`, refreshed every 5 s
 * while the tab is visible, and for the call chosen: its facts, its SIP ladder (the owning user's
 * trace of the call's Call-ID, `ladder.ts`, with the other user's leg when the call stayed in the
 * domain), its pcap, and charts of jitter, loss and MOS per direction from the media node's samples
 * (`quality-chart.ts`). A call between two browsers has no media node, and says so.
 */
import { byId, clock, duration, el, show } from '../common/dom.ts';
import { apiJson, endpointMissing } from './api.ts';
import { callsOf, ladderMessages, peerLeg, readTrace, renderLadder } from './ladder.ts';
import { downloadPcap } from './pcap-download.ts';
import { renderChart, type ChartLine, type ChartSpec } from './quality-chart.ts';

interface Sample {
  readonly t: number;
  readonly packets: number;
  readonly lost: number;
  readonly lossPercent: number;
  readonly jitterMs: number;
  readonly roundTripMs: number | null;
  readonly mos: number | null;
}

interface Summary {
  readonly packets: number;
  readonly lossPercent: number;
  readonly jitterMs: number;
  readonly mos: number;
}

/** `GET /api/v1/calls` and `/calls/:id` (workers/api/calls.ts). */
export interface CallView {
  readonly id: string;
  readonly startedAt: string;
  readonly answeredAt: string | null;
  readonly endedAt: string | null;
  readonly live: boolean;
  readonly durationSeconds: number | null;
  readonly caller: string;
  readonly callee: string;
  readonly direction: 'local' | 'outbound' | 'inbound';
  readonly link: string | null;
  readonly user: string | null;
  readonly sipCallId: string | null;
  readonly status: number | null;
  readonly reason: string | null;
  readonly endedBy: string | null;
  readonly endReason: string | null;
  readonly media: null | {
    readonly nodeId: string;
    readonly reason: string;
    readonly codecs?: { readonly browser: string | null; readonly pbx: string | null };
    readonly summary: { readonly browserToPbx: Summary | null; readonly pbxToBrowser: Summary | null };
    readonly samples?: { readonly intervalMs: number; readonly browserToPbx: readonly Sample[]; readonly pbxToBrowser: readonly Sample[] };
  };
}

const REFRESH_MS = 5_000;

let timer: ReturnType<typeof setInterval> | undefined;
let cursor: string | undefined;
let shown = '';
let selected: string | undefined;

export function startCallsPanel(): void {
  stopCallsPanel();
  void loadCalls();
  timer = setInterval(() => {
    if (document.visibilityState !== 'visible') return;
    void loadCalls();
    if (selected !== undefined) void refreshDetail(selected);
  }, REFRESH_MS);
}

export function stopCallsPanel(): void {
  if (timer !== undefined) clearInterval(timer);
  timer = undefined;
  selected = undefined;
  shown = '';
}

byId('calls-refresh').addEventListener('click', () => void loadCalls());
byId('calls-live').addEventListener('change', () => void loadCalls());
byId('calls-more').addEventListener('click', () => void loadCalls(true));
byId('call-pcap').addEventListener('click', () => {
  const call = current;
  if (call?.user != null && call.sipCallId !== null) downloadPcap(call.user, call.sipCallId, byId('call-pcap-note'));
});

let current: CallView | undefined;

async function loadCalls(more = false): Promise<void> {
  const note = byId('calls-note');
  const live = byId<HTMLInputElement>('calls-live').checked;
  try {
    const page = await apiJson<{ calls: CallView[]; next?: string }>(`/calls?limit=25${live ? '&live=true' : ''}${more && cursor !== undefined ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
    if (!more) {
      // Redrawn only when something changed, so a refresh does not take the keyboard focus away.
      const fingerprint = JSON.stringify(page);
      if (fingerprint === shown) return;
      shown = fingerprint;
      byId('calls').replaceChildren();
    }
    byId('calls').append(...page.calls.map(callRow));
    cursor = page.next;
    show(byId('calls-more'), cursor !== undefined);
    note.textContent = page.calls.length === 0 && !more ? (live ? 'No call under way.' : 'No calls yet.') : '';
  } catch (error) {
    note.textContent = endpointMissing(error) ? 'This edge keeps no call records.' : `Calls: ${String(error)}`;
  }
}

function route(call: CallView): string {
  if (call.direction === 'outbound') return `out via ${call.link ?? '?'}`;
  if (call.direction === 'inbound') return `in via ${call.link ?? '?'}`;
  return 'local';
}

function outcome(call: CallView): { readonly text: string; readonly level: string } {
  if (call.live) return { text: call.answeredAt === null ? 'ringing' : 'live', level: 'warn' };
  if (call.status !== null && call.status < 300) return { text: `${call.status} ${call.reason ?? ''}`.trim(), level: 'good' };
  return { text: call.status === null ? 'ended' : `${call.status} ${call.reason ?? ''}`.trim(), level: 'bad' };
}

function callDuration(call: CallView): string {
  return call.durationSeconds === null ? '–' : duration(call.durationSeconds * 1000);
}

function worstMos(call: CallView): string {
  const summary = call.media?.summary;
  const values = [summary?.browserToPbx?.mos, summary?.pbxToBrowser?.mos].filter((value): value is number => typeof value === 'number' && value > 0);
  return values.length === 0 ? '–' : Math.min(...values).toFixed(2);
}

function callRow(call: CallView): HTMLTableRowElement {
  const { text, level } = outcome(call);
  const open = el('button', { type: 'button', 'data-call': call.id, 'aria-label': `Show the call from ${call.caller} to ${call.callee}, ${clock(Date.parse(call.startedAt))}` }, 'Show');
  open.addEventListener('click', () => void selectCall(call.id));
  return el(
    'tr',
    { 'data-call': call.id, ...(call.id === selected ? { 'aria-current': 'true' } : {}) },
    el('td', {}, clock(Date.parse(call.startedAt))),
    el('td', {}, call.caller, ' → ', call.callee),
    el('td', {}, route(call)),
    el('td', {}, el('span', { class: 'status', 'data-level': level }, text)),
    el('td', {}, callDuration(call)),
    el('td', {}, worstMos(call)),
    el('td', {}, open),
  );
}

async function selectCall(id: string): Promise<void> {
  selected = id;
  for (const row of byId('calls').querySelectorAll('tr')) {
    if (row.dataset['call'] === id) row.setAttribute('aria-current', 'true');
    else row.removeAttribute('aria-current');
  }
  show(byId('call-detail'), true);
  byId('call-title').textContent = 'Loading…';
  byId('call-ladder').replaceChildren();
  byId('call-charts').replaceChildren();
  byId('call-pcap-note').textContent = '';
  await Promise.all([refreshDetail(id, true), loadCalls()]);
  byId('call-title').focus();
}

async function refreshDetail(id: string, first = false): Promise<void> {
  let call: CallView;
  try {
    call = await apiJson<CallView>(`/calls/${encodeURIComponent(id)}`);
  } catch (error) {
    byId('call-title').textContent = `Call ${id}: ${String(error)}`;
    return;
  }
  // A finished call's detail does not change: the periodic refresh leaves it alone.
  if (!first && !call.live && current?.id === id && !current.live && (current.media !== null || call.media === null)) return;
  if (selected !== id) return;
  current = call;
  byId('call-title').textContent = `${call.caller} → ${call.callee}`;
  byId('call-facts').replaceChildren(...facts(call));
  show(byId('call-pcap'), call.user !== null && call.sipCallId !== null);
  byId('call-charts').replaceChildren(...charts(call));
  await drawLadder(call);
}

function facts(call: CallView): HTMLElement[] {
  const at = (iso: string | null): string => (iso === null ? '–' : clock(Date.parse(iso)));
  const rows: [string, string][] = [
    ['Route', route(call)],
    ['Started', at(call.startedAt)],
    ['Answered', at(call.answeredAt)],
    ['Ended', call.live ? 'under way' : at(call.endedAt)],
    ['Duration', callDuration(call)],
    ['Final status', call.status === null ? '–' : `${call.status} ${call.reason ?? ''}`],
    ['Hung up by', call.endedBy === null ? '–' : `${call.endedBy}${call.endReason === null ? '' : ` (${call.endReason})`}`],
    ['SIP Call-ID', call.sipCallId ?? '–'],
    ['Media', call.media === null ? 'no media node (browser to browser, or none yet)' : `${call.media.nodeId}${call.media.codecs === undefined ? '' : `, ${call.media.codecs.browser ?? '?'} ↔ ${call.media.codecs.pbx ?? '?'}`}`],
  ];
  return rows.flatMap(([term, value]) => [el('dt', {}, term), el('dd', {}, value)]);
}

const CHARTS: readonly (ChartSpec & { readonly pick: (sample: Sample) => number | null })[] = [
  { id: 'chart-jitter', title: 'Jitter', unit: 'ms', floor: 0, ceiling: 10, worse: 'higher', digits: 1, pick: (sample) => (sample.packets > 0 ? sample.jitterMs : null) },
  { id: 'chart-loss', title: 'Packet loss', unit: '%', floor: 0, ceiling: 5, worse: 'higher', digits: 1, pick: (sample) => (sample.packets > 0 || sample.lost > 0 ? sample.lossPercent : null) },
  { id: 'chart-mos', title: 'MOS', unit: 'MOS', floor: 1, ceiling: 4.5, worse: 'lower', digits: 2, pick: (sample) => sample.mos },
];

function charts(call: CallView): HTMLElement[] {
  const samples = call.media?.samples;
  if (samples === undefined) {
    return [el('p', {}, call.media === null ? 'No quality charts: no media node carried this call’s media.' : 'The media node sent no quality samples for this call.')];
  }
  return CHARTS.map((spec) => {
    const lines: ChartLine[] = [
      { name: 'Browser → PBX', points: samples.browserToPbx.map((sample) => ({ t: sample.t, value: spec.pick(sample) })) },
      { name: 'PBX → browser', points: samples.pbxToBrowser.map((sample) => ({ t: sample.t, value: spec.pick(sample) })) },
    ];
    return renderChart(spec, lines);
  });
}

async function drawLadder(call: CallView): Promise<void> {
  const box = byId('call-ladder');
  const user = call.user;
  const callId = call.sipCallId;
  if (user === null || callId === null) {
    box.replaceChildren(el('p', {}, 'No user of the domain holds this call’s SIP messages.'));
    return;
  }
  try {
    const own = callsOf(await readTrace(user, 0, callId)).find((each) => each.callId === callId);
    if (own === undefined) {
      box.replaceChildren(el('p', {}, `No SIP messages of this call in ${user}'s trace.`));
      return;
    }
    let peer;
    if (call.direction === 'local' && own.peer !== undefined && own.peer !== user) {
      const since = (own.records[0]?.at ?? 0) - 10_000;
      peer = await readTrace(own.peer, since)
        .then((records) => peerLeg(own, user, records))
        .catch(() => undefined);
    }
    const far = call.direction === 'local' ? `${own.peer ?? call.callee}'s device` : (call.link ?? 'PBX');
    box.replaceChildren(renderLadder(ladderMessages(own, peer), { device: `${user}'s device`, edge: 'edge', peer: far }));
  } catch (error) {
    box.replaceChildren(el('p', {}, `Ladder: ${error instanceof Error ? error.message : String(error)}`));
  }
}
