/**
 * Message-waiting indication from a PBX (RFC 3842) in the user's object: the PBX's summary
 * (`application/simple-message-summary`, passed through unchanged) is kept, one row per user, and
 * sent to every registered device as an out-of-dialog NOTIFY (`Event: message-summary`, no
 * subscription: what SIP.js calls `allowLegacyNotifications` and Asterisk "unsolicited MWI").
 *
 * The PBX's link waits for the outcome: how many devices answered 2xx. Each device's NOTIFY is one
 * request over its binding's flow (reliable: WebSocket or TCP, so no retransmission); the wait
 * ends when every device answered or its flow failed, or at `ANSWER_WAIT_MS`, when a device that
 * has not answered counts as not having taken it. The waits live in memory only.
 */
import { parseNameAddr, serializeUri } from '../../shared/grammar/index.ts';
import { getCallId, getCSeq, getHeader, type SipRequest, type SipResponse } from '../../shared/message/index.ts';
import { generateBranch } from '../../shared/transaction/index.ts';
import type { Binding } from '../registrar/binding.ts';
import { edgeVia, newCallId } from '../sip/edge-ua.ts';
import { randomTag } from '../sip/wire.ts';
import { LazyTables } from '../sql/lazy-tables.ts';
import { CONTENT_TYPE } from './event-package.ts';

/** How long the link waits for the devices' answers. */
export const ANSWER_WAIT_MS = 4_000;

/** What became of one summary sent to the user's devices. */
export interface SummaryOutcome {
  /** Registered devices it was sent to. */
  readonly devices: number;
  /** Devices that answered 2xx. */
  readonly took: number;
}

/** RFC 3842 §5.2: a summary's one required line, `Messages-Waiting: yes|no`. */
export function isMessageSummary(body: string): boolean {
  return /^Messages-Waiting[ \t]*:[ \t]*(yes|no)[ \t]*$/im.test(body);
}

/** The out-of-dialog NOTIFY to one device: To and From are the user, the body the PBX's. */
export function summaryNotify(aor: string, binding: Pick<Binding, 'contact' | 'path' | 'flow'>, domain: string, callId: string, body: string): SipRequest {
  const bytes = new TextEncoder().encode(body);
  return {
    kind: 'request',
    method: 'NOTIFY',
    uri: serializeUri(parseNameAddr(binding.contact).uri),
    version: 'SIP/2.0',
    headers: [
      { name: 'Via', value: `${edgeVia(domain, binding.flow.transport)};branch=${generateBranch()}` },
      { name: 'Max-Forwards', value: '70' },
      ...binding.path.map((value) => ({ name: 'Route', value })),
      { name: 'To', value: `<sip:${aor}>` },
      { name: 'From', value: `<sip:${aor}>;tag=${randomTag()}` },
      { name: 'Call-ID', value: callId },
      { name: 'CSeq', value: '1 NOTIFY' },
      { name: 'Event', value: 'message-summary' },
      // RFC 6665 §4.1.3 asks every NOTIFY for one; no subscription stands behind this one.
      { name: 'Subscription-State', value: 'terminated;reason=noresource' },
      { name: 'Content-Type', value: CONTENT_TYPE['message-summary'] },
      { name: 'Content-Length', value: String(bytes.length) },
    ],
    body: bytes,
  };
}

interface Wait {
  readonly branches: Set<string>;
  took: number;
  readonly done: (outcome: SummaryOutcome) => void;
  readonly devices: number;
}

/** The NOTIFYs of summaries on their way to the devices, matched to their answers by Call-ID and branch. */
export class SummaryRelay {
  readonly #waits = new Map<string, Wait>();

  /** Sends `body` to every device in `bindings`; resolves once each answered, failed, or the wait ran out. */
  relay(aor: string, body: string, bindings: readonly Binding[], domain: string, deliver: (connectionId: string, wire: string) => Promise<boolean>, serialize: (request: SipRequest) => string): Promise<SummaryOutcome> {
    if (bindings.length === 0) return Promise.resolve({ devices: 0, took: 0 });
    const callId = newCallId(domain);
    return new Promise((resolve) => {
      const timer = setTimeout(() => finish(), ANSWER_WAIT_MS);
      const finish = (): void => {
        const wait = this.#waits.get(callId);
        if (wait === undefined) return;
        clearTimeout(timer);
        this.#waits.delete(callId);
        resolve({ devices: wait.devices, took: wait.took });
      };
      const wait: Wait = { branches: new Set(), took: 0, devices: bindings.length, done: finish };
      this.#waits.set(callId, wait);
      for (const binding of bindings) {
        const request = summaryNotify(aor, binding, domain, callId, body);
        const branch = branchOf(request);
        wait.branches.add(branch);
        void deliver(binding.flow.connectionId, serialize(request)).then(
          (sent) => sent || this.#answered(callId, branch, 503),
          () => this.#answered(callId, branch, 503),
        );
      }
    });
  }

  /** A device's response: true when it answers one of the summaries' NOTIFYs. */
  deviceResponse(response: SipResponse): boolean {
    const callId = getCallId(response);
    if (callId === undefined || getCSeq(response)?.method !== 'NOTIFY' || !this.#waits.has(callId)) return false;
    if (response.status >= 200) this.#answered(callId, branchOf(response), response.status);
    return true;
  }

  #answered(callId: string, branch: string, status: number): void {
    const wait = this.#waits.get(callId);
    if (wait === undefined || !wait.branches.delete(branch)) return;
    if (status < 300) wait.took += 1;
    if (wait.branches.size === 0) wait.done({ devices: wait.devices, took: wait.took });
  }
}

function branchOf(message: SipRequest | SipResponse): string {
  return /;\s*branch=([^;,\s]+)/i.exec(getHeader(message, 'Via') ?? '')?.[1] ?? '';
}

/** The last summary the PBX sent for the user: one row, written only when it changes. */
export class SummaryStore {
  readonly #sql: SqlStorage;
  readonly #tables: LazyTables;

  constructor(sql: SqlStorage) {
    this.#sql = sql;
    this.#tables = new LazyTables(sql, 'CREATE TABLE IF NOT EXISTS message_summary (id INTEGER PRIMARY KEY CHECK (id = 1), body TEXT NOT NULL, updated_at INTEGER NOT NULL)', 'message_summary');
  }

  load(): string | undefined {
    if (!this.#tables.exist()) return undefined;
    return this.#sql.exec<{ body: string }>('SELECT body FROM message_summary WHERE id = 1').toArray()[0]?.body;
  }

  /** Keeps `body`; false when it is the one already kept. */
  save(body: string, now: number): boolean {
    if (this.load() === body) return false;
    this.#tables.write('INSERT OR REPLACE INTO message_summary (id, body, updated_at) VALUES (1, ?, ?)', body, now);
    return true;
  }

  delete(): void {
    if (this.#tables.exist()) this.#tables.write('DELETE FROM message_summary');
  }
}
