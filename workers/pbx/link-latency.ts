/**
 * SIP transaction response times toward a PBX link: the time from a request leaving on the link's
 * flow (REGISTER, INVITE, OPTIONS, BYE, CANCEL, the users' proxied REGISTERs: whatever the link
 * sends) to the first response to it, provisional or final (for an INVITE usually the 100 Trying,
 * RFC 3261 §17.1.1.2), read off the wire both ways (`LinkEngine.latency`, called for every message
 * the link's trace sees). A request that gets no response within 64*T1 (32 s, Timer B/F) counts as
 * a timeout. Samples go to the link's SQLite (`link-latency-store.ts`); the summary is computed
 * when asked.
 *
 * Qualify (Asterisk's `qualify_frequency`, seconds, 0 = off): when set, a link that timed no
 * transaction for that long sends an OPTIONS to its `server_uri` (RFC 3261 §11), so an idle link
 * still has a fresh figure and an unreachable PBX shows as timeouts. Its deadline joins the link's
 * one alarm (`nextDeadline`, `fire`).
 */
import { generateBranch } from '../../shared/transaction/index.ts';
import { VERSION } from '../../shared/version.ts';
import { summarize, type LatencySummary } from '../latency-summary.ts';
import { randomTag } from '../sip/wire.ts';
import type { LinkIdentity, PbxLinkConfig } from './link-config.ts';
import { LATENCY_SAMPLES, type LatencySample, type LinkLatencyStore } from './link-latency-store.ts';
import type { StoredLink } from './link-store.ts';
import { contactUri, LINK_ALLOW, routeValue, transportToken } from './register-request.ts';

/** RFC 3261 §17.1.1.2 and §17.1.2.2: 64*T1, after which a client transaction has given up. */
export const RESPONSE_TIMEOUT_MS = 32_000;
/** Requests awaiting their first response, at most (a burst beyond this is not timed). */
const MAX_PENDING = 256;

const CALL_ID = /^(?:call-id|i)[ \t]*:[ \t]*([^\r\n]*?)[ \t]*$/im;
const CSEQ = /^cseq[ \t]*:[ \t]*(\d+)[ \t]+([^\s]+)/im;
const STATUS = /^SIP\/2\.0[ \t]+(\d{3})[ \t]/;

export type MethodSummary = LatencySummary & { readonly timeouts: number };

/** What `GET /api/v1/pbx-links/:id/latency` answers. */
export interface LinkLatencyView {
  /** How many samples the summary may cover at most. */
  readonly window: number;
  readonly summary: MethodSummary;
  readonly methods: Readonly<Record<string, MethodSummary>>;
  readonly qualify_frequency: number;
  /** Oldest first. */
  readonly samples: readonly { readonly at: string; readonly method: string; readonly status: number | null; readonly ms: number | null }[];
}

export interface LatencyPorts {
  readonly link: () => StoredLink | undefined;
  /** Writes a request on the link's flow (opening one when there is none); false when the link is gone. */
  readonly send: (wire: string) => boolean;
}

/** The transaction a message belongs to, from its Call-ID and CSeq; undefined without them. */
function transactionOf(wire: string): { readonly key: string; readonly method: string; readonly status: number | undefined } | undefined {
  const end = wire.indexOf('\r\n\r\n');
  const head = end < 0 ? wire : wire.slice(0, end);
  const callId = CALL_ID.exec(head)?.[1];
  const cseq = CSEQ.exec(head);
  if (callId === undefined || cseq === null) return undefined;
  const method = (cseq[2] as string).toUpperCase();
  const status = STATUS.exec(head)?.[1];
  return { key: `${callId} ${cseq[1]} ${method}`, method, status: status === undefined ? undefined : Number(status) };
}

function summaryOf(samples: readonly LatencySample[]): MethodSummary {
  const answered = samples.flatMap((sample) => (sample.ms === null ? [] : [sample.ms]));
  return { ...summarize(answered), timeouts: samples.length - answered.length };
}

export function qualifyFrequency(config: PbxLinkConfig | undefined): number {
  return config?.qualify_frequency ?? 0;
}

/** The qualify request (RFC 3261 §11.1), built as the link's REGISTER is, over the same flow. */
export function buildQualify(config: PbxLinkConfig, identity: LinkIdentity, cseq: number): string {
  const route = config.outbound_proxy === undefined ? [] : [`Route: ${routeValue(config.outbound_proxy)}`];
  return [
    `OPTIONS ${config.server_uri} SIP/2.0`,
    `Via: SIP/2.0/${transportToken(config)} ${identity.contactHost};rport;branch=${generateBranch()}`,
    'Max-Forwards: 70',
    ...route,
    `From: <${config.client_uri}>;tag=${randomTag()}`,
    `To: <${config.server_uri}>`,
    `Call-ID: ${randomTag()}${randomTag()}`,
    `CSeq: ${cseq} OPTIONS`,
    `Contact: <${contactUri(config, identity)}>`,
    'Accept: application/sdp',
    `Allow: ${LINK_ALLOW}`,
    `User-Agent: ${config.user_agent ?? `sipedge/${VERSION}`}`,
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');
}

export class LinkLatency {
  readonly #store: LinkLatencyStore;
  readonly #ports: LatencyPorts;
  /** Requests sent and not yet answered, by transaction, in the order sent. */
  readonly #pending = new Map<string, { readonly method: string; readonly sentAt: number }>();
  /** The last timed response or qualify sent: the qualify interval counts from it. */
  #lastActivity: number;
  #qualifyCSeq = 0;

  constructor(store: LinkLatencyStore, ports: LatencyPorts, now: number) {
    this.#store = store;
    this.#ports = ports;
    this.#lastActivity = now;
  }

  /** A message on the link's flow, as the trace sees it. */
  observe(direction: 'in' | 'out', wire: string, now: number): void {
    this.#expire(now);
    const transaction = transactionOf(wire);
    if (transaction === undefined) return;
    const { key, method, status } = transaction;
    if (direction === 'out') {
      // Requests only (ACK has no response); a request sent again keeps its first time.
      if (status !== undefined || method === 'ACK' || this.#pending.has(key) || this.#pending.size >= MAX_PENDING) return;
      this.#pending.set(key, { method, sentAt: now });
      return;
    }
    if (status === undefined) return;
    const sent = this.#pending.get(key);
    if (sent === undefined) return;
    this.#pending.delete(key);
    this.#lastActivity = now;
    this.#store.add({ at: now, method, status, ms: now - sent.sentAt });
  }

  /** The next qualify, when the link is configured with one. */
  nextDeadline(): number | undefined {
    const frequency = qualifyFrequency(this.#ports.link()?.config);
    return frequency > 0 ? this.#lastActivity + frequency * 1000 : undefined;
  }

  /** The alarm rang: a qualify when it is due. */
  fire(now: number): void {
    this.#expire(now);
    const deadline = this.nextDeadline();
    const link = this.#ports.link();
    if (deadline === undefined || now < deadline || link === undefined) return;
    this.#lastActivity = now;
    this.#qualifyCSeq += 1;
    this.#ports.send(buildQualify(link.config, link.identity, this.#qualifyCSeq));
  }

  view(now: number): LinkLatencyView {
    this.#expire(now);
    const samples = this.#store.recent();
    const methods: Record<string, MethodSummary> = {};
    for (const method of new Set(samples.map((sample) => sample.method))) {
      methods[method] = summaryOf(samples.filter((sample) => sample.method === method));
    }
    return {
      window: LATENCY_SAMPLES,
      summary: summaryOf(samples),
      methods,
      qualify_frequency: qualifyFrequency(this.#ports.link()?.config),
      samples: samples.map((sample) => ({ ...sample, at: new Date(sample.at).toISOString() })),
    };
  }

  /** The link was deleted: its figures go with it. */
  clear(): void {
    this.#pending.clear();
    this.#store.clear();
  }

  /** Requests unanswered for 32 s are timeouts (found when anything happens, never by an alarm of their own). */
  #expire(now: number): void {
    for (const [key, sent] of this.#pending) {
      if (now - sent.sentAt < RESPONSE_TIMEOUT_MS) break;
      this.#pending.delete(key);
      this.#store.add({ at: sent.sentAt + RESPONSE_TIMEOUT_MS, method: sent.method, status: null, ms: null });
    }
  }
}
