/**
 * The HTTP side of `GET /sip`: only a WebSocket upgrade that offers the `sip` subprotocol is let
 * through (RFC 7118 §4.1: "the SIP WebSocket Client MUST include the value 'sip' in the
 * Sec-WebSocket-Protocol header"), so a misconfigured client learns why at once instead of
 * connecting and then being ignored.
 */

export const SIP_SUBPROTOCOL = 'sip';

export type UpgradeCheck =
  | { readonly ok: true }
  | { readonly ok: false; readonly status: 400 | 426; readonly title: string; readonly detail: string; readonly headers: Readonly<Record<string, string>> };

export function checkSipUpgrade(headers: Headers): UpgradeCheck {
  const upgrade = headers.get('Upgrade');
  if (upgrade === null || upgrade.toLowerCase() !== 'websocket') {
    // RFC 9110 §15.5.22: a 426 names the protocol to upgrade to in Upgrade.
    return {
      ok: false,
      status: 426,
      title: 'Upgrade Required',
      detail: '/sip speaks SIP over WebSocket (RFC 7118): connect with a WebSocket client and the subprotocol "sip"',
      headers: { Upgrade: 'websocket' },
    };
  }
  const offered = (headers.get('Sec-WebSocket-Protocol') ?? '').split(',').map((value) => value.trim()).filter((value) => value !== '');
  if (!offered.includes(SIP_SUBPROTOCOL)) {
    const what = offered.length === 0 ? 'no Sec-WebSocket-Protocol' : `Sec-WebSocket-Protocol "${offered.join(', ')}"`;
    return {
      ok: false,
      status: 400,
      title: 'Missing WebSocket subprotocol "sip"',
      detail: `the request offers ${what}; RFC 7118 §4.1 requires the subprotocol "sip"`,
      headers: {},
    };
  }
  return { ok: true };
}

/**
 * The host the client connected to, from the upgrade request's Host header (else its URL),
 * lower-cased and without port; undefined when neither names one.
 */
export function webSocketHost(request: Request): string | undefined {
  const authority = request.headers.get('Host') ?? new URL(request.url).host;
  // An IPv6 literal keeps its brackets, as a SIP URI writes it (RFC 3261 §25.1).
  const host = authority.startsWith('[') ? authority.slice(0, authority.indexOf(']') + 1) : authority.split(':', 1)[0]!;
  return host === '' ? undefined : host.toLowerCase();
}
