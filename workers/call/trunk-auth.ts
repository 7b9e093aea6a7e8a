/**
 * A PBX or trunk that challenges the edge's INVITE (RFC 3261 §22.2, §22.3): the INVITE goes again,
 * once, with the link's credentials (`StepContext.credentials`) for the 401's WWW-Authenticate or
 * the 407's Proxy-Authenticate: the same Call-ID, From tag and To, the CSeq one higher and a new
 * Via branch, as a new client transaction on the same branch of the fork. A second challenge, or
 * one this stack cannot answer, fails the branch like any other final response.
 */
import { answerChallenge, createDigestClientState, credentialsHeaderName } from '../../shared/auth/index.ts';
import { getCSeq, getHeaders, serializeMessage, setHeader, type SipResponse } from '../../shared/message/index.ts';
import { generateBranch } from '../../shared/transaction/index.ts';
import type { Branch } from './call-half.ts';
import type { CallStep } from './call-step.ts';
import { parseRequest } from './dialog-relay.ts';
import { withHeader } from './relay-content.ts';

/** True when the branch's INVITE went again with credentials; false when the challenge is the branch's answer. */
export function answerTrunkChallenge(step: CallStep, branch: Branch, response: SipResponse): boolean {
  const account = step.context.credentials;
  if (account === undefined || branch.authorized === true || (response.status !== 401 && response.status !== 407)) return false;
  const status = response.status;
  const previous = parseRequest(branch.request);
  const answer = answerChallenge({
    challenges: getHeaders(response, status === 401 ? 'WWW-Authenticate' : 'Proxy-Authenticate'),
    account,
    method: 'INVITE',
    // RFC 3261 §22.4: the digest-uri is the Request-URI.
    uri: previous.uri,
    body: previous.body,
    state: createDigestClientState(),
  });
  if (!answer.ok) {
    step.log('warn', 'call.trunk-challenge-unanswerable', { detail: answer.detail });
    return false;
  }
  const seq = getCSeq(previous)?.seq ?? 1;
  const via = getHeaders(previous, 'Via')[0] ?? '';
  let request = setHeader(previous, 'Via', via.replace(/;branch=[^;,\s]*/i, `;branch=${generateBranch()}`));
  request = setHeader(request, 'CSeq', `${seq + 1} INVITE`);
  request = withHeader(request, credentialsHeaderName(status), answer.value);
  const key = step.sendRequest(request, branch.device.connectionId, { kind: 'branch', index: branch.index });
  step.forget(branch.key);
  const setup = step.half.setup;
  if (setup.kind !== 'callee') return true;
  const patch: Partial<Branch> = { key, request: serializeMessage(request), authorized: true, state: 'calling' };
  step.update({ setup: { ...setup, branches: setup.branches.map((each) => (each.index === branch.index ? { ...each, ...patch } : each)) } });
  step.log('info', 'call.trunk-challenge-answered', { status });
  return true;
}
