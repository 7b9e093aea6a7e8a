/**
 * Unsolicited NOTIFYs from a PBX (no dialog, no SUBSCRIBE behind them): message-waiting indication
 * (RFC 3842, `Event: message-summary`), which Asterisk, FreeSWITCH and most PBXs send to a
 * registered contact whenever a mailbox changes. The user is found as for an inbound call: the
 * link's `endpoint` for its registered contact (or its `line`), the proxied user whose Contact the
 * Request-URI names (`user-registrations.ts`). The user's object sends the summary on to its
 * devices (`workers/presence/message-summary.ts`); the PBX hears 200 when a device took it, 480
 * when none did (none online, or none answered 2xx), 481 when the Request-URI names no user of the
 * link, 400 when the body has no `Messages-Waiting` line.
 */
import { parseUri } from '../../shared/grammar/index.ts';
import { getHeader, getTo, type SipRequest } from '../../shared/message/index.ts';
import { errorFields, type Logger } from '../logger.ts';
import { isMessageSummary, type SummaryOutcome } from '../presence/message-summary.ts';
import type { StoredLink } from './link-store.ts';

export interface LinkNotifyPorts {
  readonly domain: string;
  readonly log: Logger;
  link(): StoredLink | undefined;
  proxiedUser?(contactUser: string): string | undefined;
  /** The user's object (`SipUser.messageSummary`); absent, every summary is refused 480. */
  messageSummary?(aor: string, body: string): Promise<SummaryOutcome | undefined>;
}

/** An out-of-dialog NOTIFY of the message-summary package. */
export function isUnsolicitedSummary(request: SipRequest): boolean {
  if (request.method !== 'NOTIFY' || getTo(request)?.tag !== undefined) return false;
  return (getHeader(request, 'Event') ?? '').split(';')[0]?.trim().toLowerCase() === 'message-summary';
}

/** The edge user an unsolicited NOTIFY to `uri` is for, if any. */
export function summaryUser(uri: string, link: StoredLink, proxiedUser?: (contactUser: string) => string | undefined): string | undefined {
  let parsed;
  try {
    parsed = parseUri(uri);
  } catch {
    return undefined;
  }
  if (parsed.kind !== 'sip') return undefined;
  const line = parsed.params.find((param) => param.name.toLowerCase() === 'line')?.value;
  if (line !== undefined) return link.config.line && line === link.identity.line ? link.config.endpoint : undefined;
  if (link.config.endpoint !== undefined && parsed.user === link.config.contact_user) return link.config.endpoint;
  return parsed.user === undefined ? undefined : proxiedUser?.(parsed.user);
}

/** Relays the PBX's summary to its user and answers the PBX. */
export async function relaySummary(request: SipRequest, ports: LinkNotifyPorts, reply: (status: number, reason: string) => void): Promise<void> {
  const link = ports.link();
  const user = link === undefined ? undefined : summaryUser(request.uri, link, ports.proxiedUser);
  if (link === undefined || user === undefined) return reply(481, 'Call/Transaction Does Not Exist (no user for this message summary)');
  const body = new TextDecoder().decode(request.body);
  if (!isMessageSummary(body)) return reply(400, 'Bad Request (no Messages-Waiting line, RFC 3842)');
  let outcome: SummaryOutcome | undefined;
  try {
    outcome = await ports.messageSummary?.(`${user}@${ports.domain.toLowerCase()}`, body);
  } catch (error) {
    ports.log.warn('pbx-link.message-summary-failed', { link: link.config.id, ...errorFields(error) });
    return reply(500, 'Server Internal Error');
  }
  ports.log.info('pbx-link.message-summary', { link: link.config.id, user, devices: outcome?.devices ?? 0, took: outcome?.took ?? 0 });
  if (outcome === undefined && ports.messageSummary !== undefined) return reply(404, 'Not Found');
  if (outcome === undefined || outcome.took === 0) return reply(480, outcome === undefined || outcome.devices === 0 ? 'Temporarily Unavailable (no device online)' : 'Temporarily Unavailable (no device took it)');
  reply(200, 'OK');
}
