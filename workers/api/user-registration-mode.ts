/**
 * A user's registration mode in the users API (README, "Registration modes"):
 * - `proxy` (default): the edge is the browser's registrar, and a PbxLink registers the user to the
 *   PBX with the PBX credentials of `pbx` (`user-pbx.ts`), password included;
 * - `websocket`: the browser's SIP over WebSocket is relayed to the PBX's WebSocket endpoint
 *   (`workers/connection/pbx-relay.ts`). `pbx.link` names a link whose transport is `wss`;
 *   `pbx.username` is the user's name at the PBX. The browser authenticates to the PBX itself, so
 *   the edge takes no PBX password (nor auth id) for such a user.
 */
import { z } from '@hono/zod-openapi';
import type { WebSocketModeSetting } from '../user/websocket-mode.ts';
import { linkOf } from './link-owner.ts';
import { problemException } from './problem.ts';
import type { PbxCredentialsInput } from './user-pbx.ts';

export const REGISTRATION_MODES = ['proxy', 'websocket'] as const;

export type RegistrationMode = (typeof REGISTRATION_MODES)[number];

export const registrationModeSchema = z.enum(REGISTRATION_MODES).openapi({
  description: "proxy (default): the edge registers the user to the PBX with its PBX credentials; websocket: the browser's SIP over WebSocket is relayed to the PBX's wss endpoint",
  example: 'proxy',
});

function invalid(pointer: string, detail: string) {
  return problemException({ status: 400, title: 'Invalid request', detail: `${pointer.slice(2).replaceAll('/', '.')}: ${detail}`, errors: [{ pointer, detail }] });
}

/**
 * Checks `pbx` against the mode (before anything is written); for `websocket`, also that its link
 * exists in `domain` and speaks SIP over WebSocket. Resolves to the setting to keep in websocket mode.
 */
export async function checkRegistrationMode(env: Env, domain: string, mode: RegistrationMode, pbx: PbxCredentialsInput | undefined): Promise<WebSocketModeSetting | undefined> {
  if (mode === 'proxy') {
    if (pbx !== undefined && pbx.password === undefined) throw invalid('#/pbx/password', 'required: the PBX link registers the user with it');
    return undefined;
  }
  if (pbx === undefined) throw invalid('#/pbx', 'required with registration_mode websocket: its link names the PBX to relay to');
  if (pbx.password !== undefined) throw invalid('#/pbx/password', 'not taken with registration_mode websocket: the browser authenticates to the PBX itself');
  if (pbx.auth_id !== undefined) throw invalid('#/pbx/auth_id', 'not taken with registration_mode websocket: the browser authenticates to the PBX itself');
  const view = await linkOf(env, domain, pbx.link);
  const refuse = (detail: string) => problemException({ status: 409, title: 'PBX link refused', detail: `pbx.link: ${detail}`, errors: [{ pointer: '#/pbx/link', detail }] });
  if (view === undefined) throw refuse('there is no such PBX link');
  if (view.transport !== 'wss') throw refuse(`the link's transport is ${view.transport}; registration_mode websocket needs a wss link`);
  return { link: pbx.link, username: pbx.username };
}
