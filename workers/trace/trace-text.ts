/**
 * A SIP trace as plain text, the way sngrep's message view and Kamailio's siptrace show it: for each
 * message a line with the time (UTC, milliseconds), the direction as an arrow between the device
 * and the edge, the transport and the flow, then the message itself (already redacted,
 * `trace-record.ts`), then a blank line. Lines end in LF so that the file reads in any viewer.
 */
import type { TraceRecord } from './trace-record.ts';

function timeOf(at: number): string {
  return new Date(at).toISOString().replace('T', ' ').replace('Z', ' UTC');
}

export function traceText(records: readonly TraceRecord[]): string {
  return records
    .map((record) => {
      const peer = record.remote ?? 'device';
      const path = record.direction === 'in' ? `${peer} -> edge` : `edge -> ${peer}`;
      const body = record.message.replaceAll('\r\n', '\n');
      return `${timeOf(record.at)}  ${path}  ${record.transport}  flow ${record.flow}\n${body}${body.endsWith('\n') ? '' : '\n'}\n`;
    })
    .join('');
}
