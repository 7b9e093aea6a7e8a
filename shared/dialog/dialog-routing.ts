/**
 * Where an in-dialog request goes: its Request-URI and Route header fields (RFC 3261 §12.2.1.1),
 * from the dialog's route set and remote target, for loose routers (the `lr` parameter, RFC 3261
 * §19.1.1) and for strict routers (RFC 2543), which still sit in front of some PBXs.
 */
import { parseNameAddr } from '../grammar/name-addr.ts';
import { hasParam, withoutParam } from '../grammar/params.ts';
import { serializeUri } from '../grammar/uri.ts';
import type { Dialog } from './dialog-state.ts';

export interface RequestTarget {
  readonly uri: string;
  /** Route header field values, in order. */
  readonly routes: readonly string[];
}

export function requestTarget(dialog: Pick<Dialog, 'routeSet' | 'remoteTarget'>): RequestTarget {
  const [first, ...rest] = dialog.routeSet;
  // RFC 3261 §12.2.1.1: "If the route set is empty, the UAC MUST place the remote target URI into
  // the Request-URI. The UAC MUST NOT add a Route header field to the request."
  if (first === undefined) return { uri: dialog.remoteTarget, routes: [] };
  const next = parseNameAddr(first).uri;
  // "If the route set is not empty, and the first URI in the route set contains the lr parameter,
  // the UAC MUST place the remote target URI into the Request-URI and MUST include a Route header
  // field containing the route set values in order, including all parameters."
  if (next.kind === 'sip' && hasParam(next.params, 'lr')) {
    return { uri: dialog.remoteTarget, routes: dialog.routeSet };
  }
  // "If the route set is not empty, and its first URI does not contain the lr parameter, the UAC
  // MUST place the first URI from the route set into the Request-URI, stripping any parameters that
  // are not allowed in a Request-URI. The UAC MUST add a Route header field containing the remainder
  // of the route set values in order, including all parameters. The UAC MUST then place the remote
  // target URI into the Route header field as the last value."
  // RFC 3261 §19.1.1 (Table 1): `method` and URI headers are the parts not allowed in a Request-URI.
  const uri = next.kind === 'sip' ? serializeUri({ ...next, params: withoutParam(next.params, 'method'), headers: [] }) : serializeUri(next);
  return { uri, routes: [...rest, `<${dialog.remoteTarget}>`] };
}
