/** Users through the operator API, as an operator (or `npm start`) creates them. */
import { env, exports } from 'cloudflare:workers';
import { EDGE } from './sip-socket.ts';

export const DOMAIN = 'demo.sipedge.local';

export function operatorHeaders(): Record<string, string> {
  return { Authorization: `Bearer ${env.SIPEDGE_OPERATOR_TOKEN}`, 'Content-Type': 'application/json' };
}

export async function putUser(username: string, password: string, displayName?: string): Promise<Response> {
  return exports.default.fetch(`${EDGE}/api/v1/users/${encodeURIComponent(username)}`, {
    method: 'PUT',
    headers: operatorHeaders(),
    body: JSON.stringify(displayName === undefined ? { password } : { password, displayName }),
  });
}

export async function createUser(username: string, password: string): Promise<void> {
  const response = await putUser(username, password);
  if (response.status !== 201 && response.status !== 200) throw new Error(`PUT user ${username}: ${response.status} ${await response.text()}`);
}

export function userStub(username: string) {
  return env.SIP_USER.get(env.SIP_USER.idFromName(`${username}@${DOMAIN}`));
}
