/**
 * The register log of a user, read from its SIP trace: each REGISTER a device sent and how the
 * edge answered it (time, result, user agent, where from, expiry asked and granted). No separate
 * store: it has the trace's bounds (`sip-trace.ts`: count, size, age), and, like the trace,
 * refreshes of an idle device are kept in memory until the next batch is written, so those of an
 * object evicted meanwhile are missing.
 */
import type { TraceRecord } from './trace-record.ts';

export interface RegisterLogEntry {
  /** When the REGISTER arrived (ms since the epoch). */
  readonly at: number;
  /** The final response's status, or undefined when the trace holds none. */
  readonly status?: number;
  readonly reason?: string;
  readonly userAgent?: string;
  readonly transport: string;
  readonly flow: string;
  readonly remote?: string;
  /** The Contact URI registered (or removed). */
  readonly contact?: string;
  /** Seconds the device asked for (Contact `expires`, else Expires); 0 removes the binding. */
  readonly requestedExpires?: number;
  /** Seconds the edge granted for that contact (in a 2xx). */
  readonly grantedExpires?: number;
}

// RFC 3261 §7.3.3: compact forms of the headers read here.
const COMPACT: Readonly<Record<string, string>> = { i: 'call-id', m: 'contact' };

function headers(message: string): { name: string; value: string }[] {
  const end = message.indexOf('\r\n\r\n');
  const lines = (end === -1 ? message : message.slice(0, end)).split('\r\n').slice(1);
  const out: { name: string; value: string }[] = [];
  for (const line of lines) {
    const last = out[out.length - 1];
    if ((line.startsWith(' ') || line.startsWith('\t')) && last !== undefined) {
      last.value += ` ${line.trim()}`;
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    out.push({ name: COMPACT[name] ?? name, value: line.slice(colon + 1).trim() });
  }
  return out;
}

function first(list: readonly { name: string; value: string }[], name: string): string | undefined {
  return list.find((header) => header.name === name)?.value;
}

function seconds(text: string | undefined): number | undefined {
  return text !== undefined && /^\d{1,10}$/.test(text) ? Number(text) : undefined;
}

/** Each contact of Contact headers (comma-separated ones too) as its URI and `expires` parameter. */
function contacts(list: readonly { name: string; value: string }[]): { uri: string; expires?: number }[] {
  return list
    .filter((header) => header.name === 'contact')
    .flatMap((header) => header.value.split(/,(?=(?:[^"]*"[^"]*")*[^"]*$)(?![^<]*>)/))
    .map((value) => {
      const uri = /<([^>]*)>/.exec(value)?.[1] ?? value.split(';', 1)[0]?.trim() ?? '';
      const params = value.slice(value.indexOf('>') + 1);
      const expires = seconds(/;\s*expires\s*=\s*(\d+)/i.exec(params)?.[1]);
      return expires === undefined ? { uri } : { uri, expires };
    });
}

function cseqOf(list: readonly { name: string; value: string }[]): string | undefined {
  return first(list, 'cseq')?.replace(/\s+/g, ' ').toUpperCase();
}

export function registerLog(records: readonly TraceRecord[]): RegisterLogEntry[] {
  const entries: RegisterLogEntry[] = [];
  records.forEach((record, index) => {
    if (record.direction !== 'in' || !record.summary.startsWith('REGISTER ')) return;
    const request = headers(record.message);
    const callId = first(request, 'call-id');
    const cseq = cseqOf(request);
    const contact = contacts(request)[0];
    const requestedExpires = contact?.expires ?? seconds(first(request, 'expires'));
    const response = records.slice(index + 1).find((candidate) => {
      if (candidate.direction !== 'out' || candidate.flow !== record.flow || candidate.callId !== callId) return false;
      const status = /^SIP\/2\.0 (\d{3})/.exec(candidate.summary)?.[1];
      return status !== undefined && Number(status) >= 200 && cseqOf(headers(candidate.message)) === cseq;
    });
    const [, status, reason] = /^SIP\/2\.0 (\d{3}) ?(.*)$/.exec(response?.summary ?? '') ?? [];
    const granted = response === undefined || contact === undefined ? undefined : contacts(headers(response.message)).find((candidate) => candidate.uri === contact.uri)?.expires;
    const userAgent = first(request, 'user-agent');
    entries.push({
      at: record.at,
      ...(status === undefined ? {} : { status: Number(status), reason: reason ?? '' }),
      ...(userAgent === undefined ? {} : { userAgent }),
      transport: record.transport,
      flow: record.flow,
      ...(record.remote === undefined ? {} : { remote: record.remote }),
      ...(contact === undefined ? {} : { contact: contact.uri }),
      ...(requestedExpires === undefined ? {} : { requestedExpires }),
      ...(granted === undefined ? {} : { grantedExpires: granted }),
    });
  });
  return entries;
}
