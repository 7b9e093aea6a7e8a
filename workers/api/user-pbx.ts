/**
 * A user's PBX credentials in the users API (proxy registration, `workers/pbx/user-registrations.ts`):
 * the `pbx` member of a user (`{link, username, password, auth_id?}`), written to the PbxLink it
 * names, which is the only place the password is kept; the user's SipUser keeps the link's id, to
 * tell the link when the user's first binding appears and its last one goes. The password is
 * write-only: no answer carries it. A user names links of its own domain only (`link-owner.ts`):
 * another domain's link is refused as if it did not exist.
 */
import { z } from '@hono/zod-openapi';
import { aorForUser } from '../sip/address-of-record.ts';
import { linkOf, linkStub } from './link-owner.ts';
import { problemException } from './problem.ts';

const CONTROL = /^[^\x00-\x1f\x7f]*$/;

export const pbxCredentialsSchema = z
  .strictObject({
    link: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, 'must be the id of a PBX link').openapi({ example: 'office-pbx' }),
    username: z
      .string()
      .regex(/^[A-Za-z0-9+][A-Za-z0-9._+-]{0,63}$/, 'must be 1-64 letters, digits, ".", "_", "-" or "+", not starting with ".", "_" or "-"')
      .openapi({ description: "the user's name at the PBX: its AOR's user part there, and the Contact user the PBX calls", example: '1001' }),
    password: z
      .string()
      .min(1, 'must not be empty')
      .max(128, 'must be at most 128 characters')
      .regex(CONTROL, 'must not contain control characters')
      .optional()
      .openapi({ writeOnly: true, description: 'required in proxy registration mode, refused in websocket mode (`user-registration-mode.ts`)' }),
    auth_id: z
      .string()
      .min(1, 'must not be empty')
      .max(128, 'must be at most 128 characters')
      .regex(CONTROL, 'must not contain control characters')
      .optional()
      .openapi({ description: 'the digest username, when it differs from username' }),
  })
  .openapi('PbxCredentials');

export type PbxCredentialsInput = z.infer<typeof pbxCredentialsSchema>;

export const userPbxViewSchema = z
  .object({ link: z.string(), username: z.string(), auth_id: z.string().optional() })
  .openapi('UserPbx', { description: "the user's PBX credentials, without the password" });

export type UserPbxView = z.infer<typeof userPbxViewSchema>;

const registrationStates = ['unregistered', 'registering', 'registered', 'retrying', 'rejected', 'failed', 'unregistering'] as const;

export const pbxRegistrationSchema = z
  .object({
    link: z.string(),
    username: z.string(),
    auth_id: z.string().optional(),
    state: z.enum(registrationStates),
    registered_at: z.string().optional(),
    expires_at: z.string().optional(),
    refresh_at: z.string().optional(),
    next_attempt_at: z.string().optional().openapi({ description: 'retrying, rejected: when the next REGISTER goes' }),
    retries: z.number(),
    last_status: z.string().optional().openapi({ example: '403 Forbidden' }),
    detail: z.string().optional(),
    contact: z.string().optional(),
  })
  .openapi('PbxRegistration');

/** Hands the credentials to their link before anything else is written; a refusal is a problem naming the field. */
export async function storePbxCredentials(env: Env, domain: string, username: string, input: PbxCredentialsInput & { readonly password: string }): Promise<void> {
  if ((await linkOf(env, domain, input.link)) === undefined) {
    const detail = 'there is no such PBX link';
    throw problemException({ status: 409, title: 'PBX credentials refused', detail: `pbx.link: ${detail}`, errors: [{ pointer: '#/pbx/link', detail }] });
  }
  const aor = aorForUser(username, domain);
  const credentials = { username: input.username, password: input.password, ...(input.auth_id === undefined ? {} : { authId: input.auth_id }) };
  const result = await linkStub(env, input.link).putUserCredentials(aor, credentials);
  if (!result.ok) {
    const pointer = result.field === 'link' ? '#/pbx/link' : '#/pbx/username';
    throw problemException({ status: 409, title: 'PBX credentials refused', detail: `pbx.${result.field}: ${result.detail}`, errors: [{ pointer, detail: result.detail }] });
  }
}

/** The user's credentials moved to another link or went: the old link forgets them (and unregisters the user). */
export async function releasePbxCredentials(env: Env, domain: string, username: string, previous: string | undefined, current: string | undefined): Promise<void> {
  if (previous === undefined || previous === current) return;
  await linkStub(env, previous).deleteUserCredentials(aorForUser(username, domain));
}

/** The user's proxy registration through `link`, or undefined when the link has no credentials for the user. */
export async function readPbxRegistration(env: Env, domain: string, username: string, link: string) {
  const view = await linkStub(env, link).userRegistration(aorForUser(username, domain));
  return view === undefined ? undefined : { link, ...view };
}

/** What a user's view shows of its PBX credentials. */
export async function readUserPbx(env: Env, domain: string, username: string, link: string | undefined): Promise<UserPbxView | undefined> {
  if (link === undefined) return undefined;
  const registration = await readPbxRegistration(env, domain, username, link);
  if (registration === undefined) return undefined;
  return { link, username: registration.username, ...(registration.auth_id === undefined ? {} : { auth_id: registration.auth_id }) };
}
