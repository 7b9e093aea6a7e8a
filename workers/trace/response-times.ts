/**
 * Devices' response times, read off a user's SIP trace: for each request the edge sent on a flow
 * (INVITE, NOTIFY, BYE, OPTIONS, ...), the time to the device's first response on that flow,
 * matched by Call-ID and CSeq. Nothing is measured or stored for it: the trace already holds both
 * messages with their times, so idle devices cost nothing more. The times are the edge's: from the
 * user's object sending the request to it receiving the response, which includes, for a socket held
 * by a SipConnection, the hop between the two objects both ways.
 */
import { summarize, type LatencySummary } from '../latency-summary.ts';
import type { TraceRecord } from './trace-record.ts';

/** RFC 3261 §17.1.2.2: 64*T1, after which a request without a response has failed. */
const UNANSWERED_AFTER_MS = 32_000;
const CSEQ = /^cseq[ \t]*:[ \t]*(\d+)[ \t]+([^\s]+)/im;

export interface ResponseSample {
  readonly at: number;
  readonly method: string;
  readonly status: number | null;
  readonly ms: number | null;
}

export interface FlowResponseTimes {
  readonly summary: LatencySummary & { readonly unanswered: number };
  /** Oldest first. */
  readonly samples: readonly ResponseSample[];
}

function headOf(message: string): string {
  const end = message.indexOf('\r\n\r\n');
  return end < 0 ? message : message.slice(0, end);
}

/** Response times per flow, over `records` (oldest first); a request still unanswered 32 s after it went out counts as unanswered. */
export function responseTimesByFlow(records: readonly TraceRecord[], now: number): Map<string, FlowResponseTimes> {
  const pending = new Map<string, { readonly at: number; readonly method: string; sample?: ResponseSample }>();
  const samples = new Map<string, ResponseSample[]>();
  const push = (flow: string, sample: ResponseSample): void => {
    const list = samples.get(flow) ?? [];
    list.push(sample);
    samples.set(flow, list);
  };
  for (const record of records) {
    if (record.callId === undefined) continue;
    const cseq = CSEQ.exec(headOf(record.message));
    if (cseq === null) continue;
    const method = (cseq[2] as string).toUpperCase();
    const key = `${record.flow} ${record.callId} ${cseq[1]} ${method}`;
    const status = /^SIP\/2\.0[ \t]+(\d{3})/.exec(record.summary)?.[1];
    if (record.direction === 'out' && status === undefined && method !== 'ACK' && !pending.has(key)) {
      pending.set(key, { at: record.at, method });
    } else if (record.direction === 'in' && status !== undefined) {
      const sent = pending.get(key);
      if (sent === undefined || sent.sample !== undefined) continue;
      sent.sample = { at: record.at, method, status: Number(status), ms: record.at - sent.at };
      push(record.flow, sent.sample);
    }
  }
  for (const [key, sent] of pending) {
    if (sent.sample !== undefined || now - sent.at < UNANSWERED_AFTER_MS) continue;
    push(key.slice(0, key.indexOf(' ')), { at: sent.at, method: sent.method, status: null, ms: null });
  }
  const byFlow = new Map<string, FlowResponseTimes>();
  for (const [flow, list] of samples) {
    const sorted = list.toSorted((a, b) => a.at - b.at);
    const answered = sorted.flatMap((sample) => (sample.ms === null ? [] : [sample.ms]));
    byFlow.set(flow, { summary: { ...summarize(answered), unanswered: sorted.length - answered.length }, samples: sorted });
  }
  return byFlow;
}
