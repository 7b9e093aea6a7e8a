/**
 * Records what a SipUser receives and answers in the user's SIP trace (`workers/trace/`). The trace
 * never fails the message: a failure to record is logged and passed over.
 */
import { getHeader, serializeMessage, type SipMessage } from '../../shared/message/index.ts';
import { errorFields, type Logger } from '../logger.ts';
import type { Flow } from '../sip/flow.ts';
import type { SipTrace } from '../trace/sip-trace.ts';
import type { TraceEntry } from '../trace/trace-record.ts';

export class UserTraceRecorder {
  readonly #trace: SipTrace;
  readonly #log: Logger;

  constructor(trace: SipTrace, log: Logger) {
    this.#trace = trace;
    this.#log = log;
  }

  /** A message that passed on `flow`, parsed. */
  message(direction: 'in' | 'out', message: SipMessage, flow: Flow): void {
    try {
      const cseq = getHeader(message, 'CSeq');
      this.#trace.record({
        direction,
        transport: flow.transport,
        flow: flow.connectionId,
        remote: flow.remoteAddress,
        wire: serializeMessage(message),
        callId: getHeader(message, 'Call-ID'),
        cseqMethod: cseq === undefined ? undefined : /\S+$/.exec(cseq.trim())?.[0]?.toUpperCase(),
      });
    } catch (error) {
      this.#log.warn('sip-user.trace-failed', errorFields(error));
    }
  }

  /** An entry another object (a socket's holder or relay) made. */
  entry(entry: TraceEntry): void {
    try {
      this.#trace.record(entry);
    } catch (error) {
      this.#log.warn('sip-user.trace-failed', errorFields(error));
    }
  }
}
