/**
 * A user's register log and device latency, and a PBX link's response times, for the console's
 * "Register log and latency" card. The register log is a table (time, result, user agent, source,
 * expiry); each device and each link gets a response-time chart (`quality-chart.ts`) with its
 * figures in words: last keep-alive for a device, p50/p95/max for both.
 */
import { clock, el } from '../common/dom.ts';
import { apiJson } from './api.ts';
import { renderChart, type ChartPoint } from './quality-chart.ts';

interface RegisterLogEntry {
  readonly at: number;
  readonly status?: number;
  readonly reason?: string;
  readonly userAgent?: string;
  readonly transport: string;
  readonly remote?: string;
  readonly contact?: string;
  readonly requestedExpires?: number;
  readonly grantedExpires?: number;
}

interface LatencySample {
  readonly at: string;
  readonly method: string;
  readonly status: number | null;
  readonly ms: number | null;
}

interface DeviceLatency {
  readonly flow: string;
  readonly contact: string;
  readonly transport: string;
  readonly remoteAddress: string;
  readonly lastKeepaliveAt: string | null;
  readonly responses: { readonly count: number; readonly p50Ms: number | null; readonly p95Ms: number | null; readonly maxMs: number | null; readonly unanswered: number };
  readonly samples: readonly LatencySample[];
}

interface LinkLatency {
  readonly summary: { readonly count: number; readonly p50_ms: number | null; readonly p95_ms: number | null; readonly max_ms: number | null; readonly timeouts: number };
  readonly samples: readonly LatencySample[];
}

interface LinkStatus {
  readonly registration?: { readonly state: string; readonly last_status?: string; readonly detail?: string };
  readonly status?: string;
}

const ms = (value: number | null): string => (value === null ? '-' : `${value} ms`);

function figures(count: number, p50: number | null, p95: number | null, max: number | null, unanswered: number): string {
  if (count === 0 && unanswered === 0) return 'No response times measured yet.';
  return `p50 ${ms(p50)}, p95 ${ms(p95)}, max ${ms(max)} over ${count} responses${unanswered > 0 ? `, ${unanswered} unanswered` : ''}.`;
}

/** A chart of response times over the samples' span; a timeout breaks the line. */
function samplesChart(id: string, title: string, samples: readonly LatencySample[]): HTMLElement | undefined {
  const first = samples[0];
  if (first === undefined) return undefined;
  const start = Date.parse(first.at);
  const points: ChartPoint[] = samples.map((sample) => ({ t: (Date.parse(sample.at) - start) / 1000, value: sample.ms }));
  return renderChart({ id, title, unit: 'ms', floor: 0, ceiling: 10, worse: 'higher', digits: 0 }, [{ name: 'Response time', points }]);
}

function expiry(entry: RegisterLogEntry): string {
  if (entry.requestedExpires === 0) return 'removed';
  const asked = entry.requestedExpires === undefined ? '' : `asked ${entry.requestedExpires} s`;
  const granted = entry.grantedExpires === undefined ? '' : `granted ${entry.grantedExpires} s`;
  return [asked, granted].filter((part) => part !== '').join(', ');
}

/** A 401/407 challenge is the usual first answer to a REGISTER, not a failure. */
function level(status: number | undefined): string {
  if (status === undefined || status === 401 || status === 407) return 'warn';
  return status < 300 ? 'good' : 'bad';
}

function registerLogTable(username: string, entries: readonly RegisterLogEntry[]): HTMLElement {
  if (entries.length === 0) return el('p', {}, `No REGISTER of ${username} in the trace.`);
  const rows = [...entries].reverse().map((entry) =>
    el(
      'tr',
      {},
      el('td', {}, clock(entry.at)),
      el('td', {}, el('span', { class: 'status', 'data-level': level(entry.status) }, entry.status === undefined ? 'no answer' : `${entry.status} ${entry.reason ?? ''}`.trim())),
      el('td', {}, entry.userAgent ?? ''),
      el('td', {}, `${entry.transport}${entry.remote === undefined ? '' : ` ${entry.remote}`}`),
      el('td', {}, expiry(entry)),
    ),
  );
  return el(
    'div',
    { class: 'scroll' },
    el(
      'table',
      { id: 'register-log' },
      el('caption', {}, `Register log of ${username}, newest first`),
      el('thead', {}, el('tr', {}, ...['Time', 'Result', 'User agent', 'Source', 'Expiry'].map((name) => el('th', { scope: 'col' }, name)))),
      el('tbody', {}, ...rows),
    ),
  );
}

function deviceBox(device: DeviceLatency, index: number): HTMLElement {
  const keepalive = device.lastKeepaliveAt === null ? 'none yet' : clock(Date.parse(device.lastKeepaliveAt));
  const r = device.responses;
  return el(
    'div',
    { class: 'device-latency' },
    el('h4', {}, `Device ${index + 1}: ${device.transport} ${device.remoteAddress}`),
    el('dl', { class: 'facts' }, el('dt', {}, 'Contact'), el('dd', {}, device.contact), el('dt', {}, 'Last keep-alive'), el('dd', {}, keepalive)),
    el('p', { class: 'latency-summary' }, figures(r.count, r.p50Ms, r.p95Ms, r.maxMs, r.unanswered)),
    samplesChart(`chart-device-${index + 1}`, `Response times of device ${index + 1}`, device.samples),
  );
}

/** The user's register log and one latency box per registered device. */
export async function renderUserLogs(username: string): Promise<HTMLElement> {
  const path = `/users/${encodeURIComponent(username)}`;
  const [log, latency] = await Promise.all([apiJson<{ entries: RegisterLogEntry[] }>(`${path}/registrations/log`), apiJson<{ devices: DeviceLatency[] }>(`${path}/latency`)]);
  return el(
    'div',
    {},
    registerLogTable(username, log.entries),
    el(
      'section',
      { 'aria-labelledby': 'user-latency-title', id: 'user-latency' },
      el('h3', { id: 'user-latency-title' }, `Device latency of ${username}`),
      latency.devices.length === 0 ? el('p', {}, `${username} has no registered device.`) : el('div', { class: 'charts' }, ...latency.devices.map(deviceBox)),
    ),
  );
}

/** The link's current registration status and its response times. */
export async function renderLinkLatency(id: string): Promise<HTMLElement> {
  const path = `/pbx-links/${encodeURIComponent(id)}`;
  const [link, latency] = await Promise.all([apiJson<LinkStatus>(path), apiJson<LinkLatency>(`${path}/latency`)]);
  const state = link.registration?.state ?? link.status ?? 'unknown';
  const last = link.registration?.last_status === undefined ? '' : `, last response ${link.registration.last_status}`;
  const s = latency.summary;
  return el(
    'section',
    { 'aria-labelledby': 'link-latency-title', id: 'link-latency' },
    el('h3', { id: 'link-latency-title' }, `Response times of PBX link ${id}`),
    el('p', {}, `Registration now: ${state}${last}.`),
    el('p', { class: 'latency-summary' }, figures(s.count, s.p50_ms, s.p95_ms, s.max_ms, s.timeouts)),
    samplesChart('chart-link', `Response times of ${id}`, latency.samples),
  );
}
