/**
 * Sign-in by provisioning link: an operator's `POST /api/v1/users/:u/provisioning` makes a one-time
 * link, which the console turns into `/phone#provision=<token>` (the token in the fragment never
 * reaches a server log; `?provision=<token>` works too). The page takes the token out of the
 * address bar, opens `GET /provision/<token>` once (a second time answers 410), and signs in with
 * the configuration: the per-user WebSocket URL, the domain's ICE servers and, when the operator
 * put it in, the password; without one, the person types it.
 */
export interface ProvisionedConfig {
  readonly username: string;
  readonly uri: string;
  readonly displayName?: string;
  readonly webSocketUrl: string;
  readonly iceServers: readonly RTCIceServer[];
  readonly password?: string;
}

/** The token of a provisioning link in this page's address, removed from it (and from history). */
export function takeProvisioningToken(): string | undefined {
  const fromHash = new URLSearchParams(location.hash.slice(1)).get('provision');
  const fromQuery = new URLSearchParams(location.search).get('provision');
  const token = fromHash ?? fromQuery ?? undefined;
  if (token !== undefined) history.replaceState(null, '', location.pathname);
  return token === undefined || token === '' ? undefined : token;
}

export async function openProvisioningLink(token: string): Promise<ProvisionedConfig> {
  const response = await fetch(`/provision/${encodeURIComponent(token)}`, { cache: 'no-store' });
  if (response.status === 404 || response.status === 410) throw new Error('This sign-in link was already used, revoked or has expired. Ask for a new one, or sign in with your password.');
  if (!response.ok) throw new Error(`The sign-in link could not be opened (${response.status}).`);
  const config = (await response.json()) as {
    username: string;
    uri: string;
    displayName?: string;
    webSocketUrl: string;
    iceServers?: RTCIceServer[];
    sipjs?: { authorizationPassword?: unknown };
  };
  const password = config.sipjs?.authorizationPassword;
  return {
    username: config.username,
    uri: config.uri,
    webSocketUrl: config.webSocketUrl,
    iceServers: config.iceServers ?? [],
    ...(config.displayName === undefined ? {} : { displayName: config.displayName }),
    ...(typeof password === 'string' ? { password } : {}),
  };
}
