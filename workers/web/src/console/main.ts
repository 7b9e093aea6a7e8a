/**
 * The operator console (/console): sign-in with the operator token (kept in sessionStorage, for
 * this tab only), users, PBX links with their registration status, media nodes with load and
 * health, the route dry-run, live and recent calls with their ladder, pcap and quality charts
 * (`calls-panel.ts`), a user's SIP trace as a ladder diagram with a pcap download, and a user's
 * register log and device latency or a PBX link's response times (`device-logs.ts`).
 * Endpoints this edge does not have are said so in place, not hidden behind errors.
 */
import { byId, clock, el, show } from '../common/dom.ts';
import { apiJson, ApiError, endpointMissing, saveToken, savedToken } from './api.ts';
import { startCallsPanel, stopCallsPanel } from './calls-panel.ts';
import { downloadPcap } from './pcap-download.ts';
import { renderLinkLatency, renderUserLogs } from './device-logs.ts';
import { renderDryRun, type DryRunResult } from './dry-run.ts';
import { phoneLinkFor, qrCode } from './sign-in-link.ts';
import { callsOf, ladderMessages, peerLeg, readTrace, renderLadder, type TraceCall } from './ladder.ts';

interface UserView {
  readonly username: string;
  readonly displayName?: string;
}

interface LatencyFigures {
  readonly count: number;
  readonly p50: number | null;
  readonly p95: number | null;
  readonly max?: number | null;
  readonly timeouts?: number;
}

interface LinkLatency {
  readonly summary: { readonly count: number; readonly p50_ms: number | null; readonly p95_ms: number | null; readonly max_ms: number | null; readonly timeouts: number };
}

interface LinkView {
  readonly id: string;
  readonly host?: string;
  readonly registration?: { readonly state: string; readonly last_status?: string; readonly detail?: string };
  readonly status?: string;
  readonly latency?: LinkLatency;
}

interface NodeView {
  readonly nodeId: string;
  readonly region: string;
  readonly health: string;
  readonly load: number;
  readonly sessions: number;
  readonly capacity: number;
  readonly lastSeenAt: string;
  readonly rtt?: { readonly count: number; readonly p50Ms: number | null; readonly p95Ms: number | null; readonly maxMs: number | null };
}

/** "p50 40 ms · p95 120 ms · max 130 ms (25)": small text next to a link or a node; empty without samples. */
function latencyText(figures: LatencyFigures | undefined): string {
  if (figures === undefined || (figures.count === 0 && (figures.timeouts ?? 0) === 0)) return '';
  const ms = (value: number | null | undefined): string => (value === null || value === undefined ? '-' : `${value} ms`);
  const parts = [`p50 ${ms(figures.p50)}`, `p95 ${ms(figures.p95)}`, ...(figures.max === undefined ? [] : [`max ${ms(figures.max)}`])];
  const timeouts = (figures.timeouts ?? 0) > 0 ? `, ${figures.timeouts} unanswered` : '';
  return `${parts.join(' · ')} (${figures.count}${timeouts})`;
}

let calls: TraceCall[] = [];
let traceUser = '';
let usersCursor: string | undefined;

// ------------------------------------------------------------------ sign-in

byId<HTMLFormElement>('sign-in').addEventListener('submit', (event) => {
  event.preventDefault();
  void signIn(byId<HTMLInputElement>('token').value.trim());
});

byId('sign-out').addEventListener('click', () => {
  saveToken(undefined);
  stopCallsPanel();
  show(byId('console'), false);
  show(byId('sign-out'), false);
  show(byId('sign-in'), true);
  byId('token').focus();
});

async function signIn(token: string): Promise<void> {
  saveToken(token);
  const error = byId('sign-in-error');
  error.textContent = '';
  try {
    await apiJson('/media-nodes');
  } catch (failure) {
    saveToken(undefined);
    error.textContent = failure instanceof ApiError && failure.status === 401 ? 'That token was refused.' : `The edge did not answer: ${String(failure)}`;
    return;
  }
  byId<HTMLInputElement>('token').value = '';
  show(byId('sign-in'), false);
  show(byId('console'), true);
  show(byId('sign-out'), true);
  void fetch('/health')
    .then((response) => response.json() as Promise<{ domain: string }>)
    .then((health) => (byId('domain').textContent = health.domain))
    .catch(() => undefined);
  void loadUsers(false);
  void loadLinks();
  void loadNodes();
  startCallsPanel();
  byId('trace-user').focus();
}

// ------------------------------------------------------------------ users

async function loadUsers(more: boolean): Promise<void> {
  const note = byId('users-note');
  try {
    const page = await apiJson<{ users: UserView[]; next?: string }>(`/users?limit=50${more && usersCursor !== undefined ? `&cursor=${encodeURIComponent(usersCursor)}` : ''}`);
    const users = page.users;
    if (!more) byId('users').replaceChildren();
    for (const user of users) addUserRow(user);
    usersCursor = page.next;
    show(byId('users-more'), usersCursor !== undefined);
    note.textContent = users.length === 0 && !more ? 'No users yet.' : '';
  } catch (error) {
    note.textContent = endpointMissing(error) ? 'This edge cannot list users; find one by name.' : `Users: ${String(error)}`;
  }
}

byId('users-more').addEventListener('click', () => void loadUsers(true));

byId<HTMLFormElement>('user-lookup').addEventListener('submit', (event) => {
  event.preventDefault();
  const name = byId<HTMLInputElement>('user-name').value.trim();
  const note = byId('users-note');
  apiJson<UserView>(`/users/${encodeURIComponent(name)}`)
    .then((user) => {
      byId('users').replaceChildren();
      addUserRow(user);
      note.textContent = '';
    })
    .catch((error: unknown) => (note.textContent = error instanceof Error ? error.message : String(error)));
});

function addUserRow(user: UserView): void {
  const link = el('button', { type: 'button', 'aria-label': `Sign-in link for ${user.username}` }, 'Link');
  link.addEventListener('click', () => openLinkForm(user.username));
  const trace = el('button', { type: 'button', 'aria-label': `SIP trace of ${user.username}` }, 'Trace');
  trace.addEventListener('click', () => {
    byId<HTMLInputElement>('trace-user').value = user.username;
    void loadTrace(user.username);
    byId('trace-title').scrollIntoView();
  });
  const logs = el('button', { type: 'button', 'aria-label': `Register log and latency of ${user.username}` }, 'Log');
  logs.addEventListener('click', () => {
    byId<HTMLInputElement>('logs-user').value = user.username;
    void loadUserLogs(user.username);
    byId('logs-title').scrollIntoView();
  });
  byId('users').append(el('tr', {}, el('td', {}, user.username), el('td', {}, user.displayName ?? ''), el('td', {}, link, ' ', trace, ' ', logs)));
}

// ------------------------------------------------------------------ sign-in links

let linkUser = '';

function openLinkForm(username: string): void {
  linkUser = username;
  byId('link-user').textContent = username;
  byId<HTMLInputElement>('link-password').value = '';
  byId('link-error').textContent = '';
  show(byId('link-result'), false);
  show(byId('link-form'), true);
  byId('link-password').focus();
}

byId<HTMLFormElement>('link-form').addEventListener('submit', (event) => {
  event.preventDefault();
  const password = byId<HTMLInputElement>('link-password').value;
  const body = JSON.stringify({ link: true, ...(password === '' ? {} : { password }) });
  apiJson<{ link?: { url: string; expiresAt: string } }>(`/users/${encodeURIComponent(linkUser)}/provisioning`, { method: 'POST', body })
    .then(({ link }) => {
      if (link === undefined) throw new Error('the edge made no link');
      const phoneLink = phoneLinkFor(link.url);
      byId<HTMLInputElement>('link-url').value = phoneLink;
      byId('link-expires').textContent = clock(Date.parse(link.expiresAt));
      byId('link-qr').replaceChildren(qrCode(phoneLink));
      byId<HTMLInputElement>('link-password').value = '';
      show(byId('link-result'), true);
      byId('link-url').focus();
      byId<HTMLInputElement>('link-url').select();
    })
    .catch((error: unknown) => (byId('link-error').textContent = endpointMissing(error) ? 'This edge cannot make sign-in links.' : error instanceof Error ? error.message : String(error)));
});

// ------------------------------------------------------------------ PBX links

function linkLevel(state: string): string {
  if (state === 'registered' || state === 'up' || state === 'ok') return 'good';
  if (state === 'registering' || state === 'retrying' || state === 'unregistering' || state === 'unregistered') return 'warn';
  return 'bad';
}

async function loadLinks(): Promise<void> {
  const note = byId('links-note');
  try {
    const { links } = await apiJson<{ links: LinkView[] }>('/pbx-links');
    // The list has each link's state; its own resource adds the last response and the host, its latency the response times.
    const detailed = await Promise.all(links.slice(0, 100).map((link) => linkWithLatency(link.id).catch(() => link)));
    byId('links').replaceChildren(...[...detailed, ...links.slice(100)].map(linkRow));
    note.textContent = links.length === 0 ? 'No PBX links configured.' : '';
  } catch (error) {
    note.textContent = endpointMissing(error) ? 'This edge cannot list PBX links; show one by id.' : `PBX links: ${String(error)}`;
  }
}

async function linkWithLatency(id: string): Promise<LinkView> {
  const path = `/pbx-links/${encodeURIComponent(id)}`;
  const [link, latency] = await Promise.all([apiJson<LinkView>(path), apiJson<LinkLatency>(`${path}/latency`).catch(() => undefined)]);
  return latency === undefined ? link : { ...link, latency };
}

function linkRow(link: LinkView): HTMLTableRowElement {
  const state = link.registration?.state ?? link.status ?? 'unknown';
  const summary = link.latency?.summary;
  const chart = el('button', { type: 'button', 'aria-label': `Response time chart of ${link.id}` }, 'Chart');
  chart.addEventListener('click', () => {
    byId<HTMLInputElement>('logs-link').value = link.id;
    void loadLinkLatency(link.id);
    byId('logs-link').scrollIntoView();
  });
  return el(
    'tr',
    {},
    el('td', {}, link.id, link.host === undefined ? undefined : el('small', {}, ` ${link.host}`)),
    el('td', {}, el('span', { class: 'status', 'data-level': linkLevel(state) }, state)),
    el('td', {}, link.registration?.last_status ?? '', link.registration?.detail === undefined ? undefined : el('small', {}, ` ${link.registration.detail}`)),
    el('td', {}, el('small', {}, latencyText(summary === undefined ? undefined : { count: summary.count, p50: summary.p50_ms, p95: summary.p95_ms, max: summary.max_ms, timeouts: summary.timeouts })), ' ', chart),
  );
}

byId('links-refresh').addEventListener('click', () => void loadLinks());

byId<HTMLFormElement>('link-lookup').addEventListener('submit', (event) => {
  event.preventDefault();
  const id = byId<HTMLInputElement>('link-id').value.trim();
  linkWithLatency(id)
    .then((link) => {
      byId('links').replaceChildren(linkRow(link));
      byId('links-note').textContent = '';
    })
    .catch((error: unknown) => (byId('links-note').textContent = error instanceof Error ? error.message : String(error)));
});

// ------------------------------------------------------------------ media nodes

async function loadNodes(): Promise<void> {
  try {
    const listing = await apiJson<{ nodes: NodeView[] }>('/media-nodes');
    const level = (health: string): string => (health === 'healthy' ? 'good' : health === 'full' || health === 'stopping' ? 'warn' : 'bad');
    byId('nodes').replaceChildren(
      ...listing.nodes.map((node) =>
        el(
          'tr',
          {},
          el('td', {}, node.nodeId, el('small', {}, ` ${node.region}`)),
          el('td', {}, el('span', { class: 'status', 'data-level': level(node.health) }, node.health)),
          el('td', {}, el('meter', { min: '0', max: '1', value: String(node.load), 'aria-label': `Load of ${node.nodeId}` }), ` ${Math.round(node.load * 100)} %`),
          el('td', {}, `${node.sessions} / ${node.capacity}`),
          el('td', {}, clock(Date.parse(node.lastSeenAt))),
          el('td', {}, el('small', {}, latencyText(node.rtt === undefined ? undefined : { count: node.rtt.count, p50: node.rtt.p50Ms, p95: node.rtt.p95Ms }))),
        ),
      ),
    );
    byId('nodes-note').textContent = listing.nodes.length === 0 ? 'No media node has sent a heartbeat.' : '';
  } catch (error) {
    byId('nodes-note').textContent = `Media nodes: ${String(error)}`;
  }
}

byId('nodes-refresh').addEventListener('click', () => void loadNodes());

// ------------------------------------------------------------------ route dry-run

byId<HTMLFormElement>('dry-run').addEventListener('submit', (event) => {
  event.preventDefault();
  const result = byId('dry-result');
  const body = JSON.stringify({ user: byId<HTMLInputElement>('dry-user').value.trim(), dialled: byId<HTMLInputElement>('dry-dialled').value.trim() });
  apiJson<DryRunResult>('/routes/dry-run', { method: 'POST', body })
    .then((plan) => result.replaceChildren(renderDryRun(plan)))
    .catch((error: unknown) => (result.textContent = endpointMissing(error) ? 'This edge has no routing rules API.' : error instanceof Error ? error.message : String(error)));
});

// ------------------------------------------------------------------ SIP trace

byId<HTMLFormElement>('trace-form').addEventListener('submit', (event) => {
  event.preventDefault();
  void loadTrace(byId<HTMLInputElement>('trace-user').value.trim());
});


async function loadTrace(username: string): Promise<void> {
  const note = byId('trace-note');
  note.textContent = 'Loading…';
  byId('ladder').replaceChildren();
  try {
    calls = callsOf(await readTrace(username));
  } catch (error) {
    note.textContent = error instanceof Error ? error.message : String(error);
    show(byId('trace-calls-field'), false);
    return;
  }
  traceUser = username;
  note.textContent = calls.length === 0 ? `No SIP messages of ${username} in the trace.` : `${calls.length} dialogs and transactions of ${username}.`;
  const select = byId<HTMLSelectElement>('trace-calls');
  select.replaceChildren(
    ...calls.map((call, index) => {
      const first = call.records[0];
      const label = `${call.method}${call.peer === undefined || call.peer === username ? '' : ` with ${call.peer}`}, ${first === undefined ? '' : clock(first.at)} (${call.records.length} messages)`;
      return el('option', { value: String(index) }, label);
    }),
  );
  show(byId('trace-calls-field'), calls.length > 0);
  if (calls.length > 0) await drawCall(0);
}

byId<HTMLSelectElement>('trace-calls').addEventListener('change', (event) => void drawCall(Number((event.target as HTMLSelectElement).value)));

async function drawCall(index: number): Promise<void> {
  const call = calls[index];
  if (call === undefined) return;
  let peer: TraceCall | undefined;
  if (call.peer !== undefined && call.peer !== traceUser) {
    const since = (call.records[0]?.at ?? 0) - 10_000;
    peer = await readTrace(call.peer, since)
      .then((records) => peerLeg(call, traceUser, records))
      .catch(() => undefined);
  }
  const lanes = { device: `${traceUser}'s device`, edge: 'edge', peer: peer === undefined ? (call.peer ?? 'peer') : `${call.peer ?? 'peer'}'s device` };
  byId('ladder').replaceChildren(renderLadder(ladderMessages(call, peer), lanes));
  byId('pcap-note').textContent = '';
}

byId('pcap').addEventListener('click', () => {
  const call = calls[Number(byId<HTMLSelectElement>('trace-calls').value)];
  if (call !== undefined) downloadPcap(traceUser, call.callId, byId('pcap-note'));
});

// ------------------------------------------------------------------ register log and latency

async function loadUserLogs(username: string): Promise<void> {
  const note = byId('logs-user-note');
  note.textContent = 'Loading…';
  try {
    byId('user-logs').replaceChildren(await renderUserLogs(username));
    note.textContent = '';
  } catch (error) {
    byId('user-logs').replaceChildren();
    note.textContent = endpointMissing(error) ? 'This edge has no register log or latency API.' : error instanceof Error ? error.message : String(error);
  }
}

async function loadLinkLatency(id: string): Promise<void> {
  const note = byId('logs-link-note');
  note.textContent = 'Loading…';
  try {
    byId('link-logs').replaceChildren(await renderLinkLatency(id));
    note.textContent = '';
  } catch (error) {
    byId('link-logs').replaceChildren();
    note.textContent = endpointMissing(error) ? 'This edge has no PBX link latency API.' : error instanceof Error ? error.message : String(error);
  }
}

byId<HTMLFormElement>('logs-user-form').addEventListener('submit', (event) => {
  event.preventDefault();
  void loadUserLogs(byId<HTMLInputElement>('logs-user').value.trim());
});

byId<HTMLFormElement>('logs-link-form').addEventListener('submit', (event) => {
  event.preventDefault();
  void loadLinkLatency(byId<HTMLInputElement>('logs-link').value.trim());
});

// A token from earlier in this tab signs in again.
const token = savedToken();
if (token !== undefined) void signIn(token);
