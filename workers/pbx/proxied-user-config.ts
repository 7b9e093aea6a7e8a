/**
 * The link's configuration as one proxied user's registration sees it (`user-registrations.ts`):
 * the same PBX, transport and res_pjsip options, with the user's AOR, digest username and Contact
 * user. The PBX username is the Contact user so that a call from the PBX names the user it is for.
 */
import { parseUri } from '../../shared/grammar/index.ts';
import type { PbxLinkConfig } from './link-config.ts';
import type { ProxiedUser } from './proxied-user-store.ts';

/**
 * The link's configuration as the registration of one user sees it: the user's AOR and digest
 * username, the PBX username as Contact user, and no random initial delay.
 */
export function userConfig(link: PbxLinkConfig, user: Pick<ProxiedUser, 'username' | 'authId'>): PbxLinkConfig {
  const { auth_id: _authId, ...rest } = link;
  return {
    ...rest,
    username: user.username,
    ...(user.authId === undefined ? {} : { auth_id: user.authId }),
    client_uri: `sip:${user.username}@${aorHost(link)}`,
    contact_user: user.username,
    max_random_initial_delay: 0,
  };
}

/** The host part of the link's own AOR (its `client_uri`), where the users' AORs live too. */
function aorHost(link: PbxLinkConfig): string {
  try {
    const uri = parseUri(link.client_uri);
    if (uri.kind === 'sip') return uri.port === undefined ? uri.host : `${uri.host}:${uri.port}`;
  } catch {
    // A client_uri the API accepted parses; the link's host is the fallback all the same.
  }
  return link.host;
}
