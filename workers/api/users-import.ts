/**
 * `POST /api/v1/users/import`: many users at once from a CSV file (`Content-Type: text/csv`, UTF-8,
 * RFC 4180 through `csv.ts`):
 *
 *   username,password,display name      <- optional header line
 *   alice,alice's password
 *   bob,"a password, with a comma","Bob ""The Builder"" Smith"
 *
 * Every row is checked first, with the single-user PUT's rules (`users.ts`), and usernames must not
 * repeat. One bad row and nothing is created: the answer is a 400 problem whose `errors` name each
 * bad row (`{ line, field, detail }`, `field` one of `username`, `password`, `display name`, `row`).
 * Otherwise every user is created or replaced, as a PUT would, a few RPCs at a time, and the answer
 * is `{ created, replaced, total }`. At most MAX_IMPORT_BYTES and MAX_IMPORT_ROWS (413 above).
 *
 * One RPC per row, and one for the domain's user list (the Directory): 10,000 rows stay within a
 * paid plan's subrequests per request. An import is
 * idempotent, so when some users could not be stored (a 500 naming their lines) it can be sent again.
 */
import { createRoute, z } from '@hono/zod-openapi';
import { createLogger, errorFields } from '../logger.ts';
import { aorForUser } from '../sip/address-of-record.ts';
import { accountFromPassword } from '../user/account.ts';
import { readCsv } from './csv.ts';
import { apiApp, jsonResponse, problems } from './openapi.ts';
import { callerDomain, operatorAuth } from './operator-auth.ts';
import { problemException, type FieldError } from './problem.ts';
import { directoryOf } from '../directory/directory.ts';
import { putUserSchema, usernameSchema } from './users.ts';

export const MAX_IMPORT_BYTES = 1024 * 1024;
export const MAX_IMPORT_ROWS = 10_000;
/** Simultaneous RPCs to user objects while importing. */
const IMPORT_CONCURRENCY = 8;
/** Row errors listed in one problem document; the detail says how many there were. */
const MAX_LISTED_ERRORS = 1000;

export type ImportField = 'username' | 'password' | 'display name' | 'row';

export interface RowError extends FieldError {
  /** The line of the file the row starts on (1-based; the header is line 1 when there is one). */
  readonly line: number;
  readonly field: ImportField;
  readonly detail: string;
}

export interface ImportRow {
  readonly line: number;
  readonly username: string;
  readonly password: string;
  readonly displayName?: string;
}

export interface ImportResult {
  readonly created: number;
  readonly replaced: number;
  readonly total: number;
}

const passwordSchema = putUserSchema.shape.password;
const displayNameSchema = putUserSchema.shape.displayName;
const COLUMNS = 'username,password[,display name]';
const log = createLogger({ component: 'api' });

function messages(error: z.ZodError): string {
  return error.issues.map((issue) => issue.message).join('; ');
}

function isHeader(fields: readonly string[]): boolean {
  return fields[0]?.trim().toLowerCase() === 'username' && fields[1]?.trim().toLowerCase() === 'password';
}

/**
 * The rows of `text`, or every reason they cannot be imported. Throws a 413 problem past
 * MAX_IMPORT_ROWS. Pure, for the route and its tests.
 */
export function validateImport(text: string): { rows: ImportRow[]; errors: RowError[] } {
  const rows: ImportRow[] = [];
  const errors: RowError[] = [];
  const firstLine = new Map<string, number>();
  let count = 0;
  let first = true;
  for (const record of readCsv(text)) {
    if ('error' in record) {
      errors.push({ line: record.line, field: 'row', detail: record.error });
      count += 1;
    } else if (first && isHeader(record.fields)) {
      const third = record.fields[2];
      if (record.fields.length > 3 || (third !== undefined && !/^display[ _-]?name$/i.test(third.trim()))) {
        errors.push({ line: record.line, field: 'row', detail: `the header line must be "username,password" or "username,password,display name"` });
      }
    } else {
      count += 1;
      if (count <= MAX_IMPORT_ROWS) validateRow(record.line, record.fields, rows, errors, firstLine);
    }
    first = false;
    if (count > MAX_IMPORT_ROWS) {
      throw problemException({ status: 413, title: 'Too many users', detail: `an import takes at most ${MAX_IMPORT_ROWS} users; split the file` });
    }
  }
  if (count === 0) errors.push({ line: 1, field: 'row', detail: `the file holds no users; each line is ${COLUMNS}` });
  return { rows, errors };
}

function validateRow(line: number, fields: readonly string[], rows: ImportRow[], errors: RowError[], firstLine: Map<string, number>): void {
  if (fields.length < 2 || fields.length > 3) {
    const hint = fields.length > 3 ? ' (quote a display name that holds a comma)' : '';
    errors.push({ line, field: 'row', detail: `has ${fields.length} field${fields.length === 1 ? '' : 's'}; expected ${COLUMNS}${hint}` });
    return;
  }
  const before = errors.length;
  const [username = '', password = '', displayName = ''] = fields;
  const user = usernameSchema.safeParse(username);
  if (!user.success) {
    errors.push({ line, field: 'username', detail: messages(user.error) });
  } else {
    const seen = firstLine.get(username);
    if (seen !== undefined) errors.push({ line, field: 'username', detail: `"${username}" is already on line ${seen}` });
    else firstLine.set(username, line);
  }
  const pass = passwordSchema.safeParse(password);
  if (!pass.success) errors.push({ line, field: 'password', detail: messages(pass.error) });
  // An empty third column is no display name; anything else follows the PUT's rules (trimmed, 1-128, no control characters).
  const name = displayName === '' ? undefined : displayNameSchema.safeParse(displayName);
  if (name !== undefined && !name.success) errors.push({ line, field: 'display name', detail: messages(name.error) });
  if (errors.length === before) rows.push({ line, username, password, ...(name?.data === undefined ? {} : { displayName: name.data }) });
}

/** Runs `task` over `items`, at most `limit` at a time; settles every one. */
async function settleAll<T, R>(items: readonly T[], limit: number, task: (item: T) => Promise<R>): Promise<PromiseSettledResult<R>[]> {
  const results: PromiseSettledResult<R>[] = new Array<PromiseSettledResult<R>>(items.length);
  let next = 0;
  async function worker(): Promise<void> {
    while (next < items.length) {
      const index = next;
      next += 1;
      const item = items[index] as T;
      try {
        results[index] = { status: 'fulfilled', value: await task(item) };
      } catch (reason) {
        results[index] = { status: 'rejected', reason };
      }
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

async function readBounded(request: Request, limit: number): Promise<Uint8Array> {
  const declared = Number(request.headers.get('Content-Length') ?? 0);
  if (declared > limit) throw tooLarge();
  if (request.body === null) return new Uint8Array();
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = request.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel();
      throw tooLarge();
    }
    chunks.push(value);
  }
  const body = new Uint8Array(size);
  let at = 0;
  for (const chunk of chunks) {
    body.set(chunk, at);
    at += chunk.byteLength;
  }
  return body;
}

function tooLarge(): Error {
  return problemException({ status: 413, title: 'Import too large', detail: `an import file takes at most ${MAX_IMPORT_BYTES} bytes; split the file` });
}

function checkContentType(header: string | undefined): void {
  const [type = '', ...parameters] = (header ?? '').split(';').map((part) => part.trim().toLowerCase());
  const charset = parameters.find((parameter) => parameter.startsWith('charset='))?.slice('charset='.length).replaceAll('"', '');
  if (type !== 'text/csv' || (charset !== undefined && charset !== 'utf-8' && charset !== 'utf8')) {
    throw problemException({ status: 415, title: 'Unsupported Media Type', detail: `send the file as Content-Type: text/csv (UTF-8), one user per line: ${COLUMNS}` });
  }
}

function rowProblem(errors: readonly RowError[]): Error {
  const listed = errors.slice(0, MAX_LISTED_ERRORS);
  const summary = listed.slice(0, 5).map((error) => `line ${error.line} ${error.field}: ${error.detail}`).join('; ');
  const more = errors.length > 5 ? `; and ${errors.length - 5} more${errors.length > listed.length ? ` (the first ${listed.length} are listed)` : ''}` : '';
  const rows = new Set(errors.map((error) => error.line)).size;
  return problemException({
    status: 400,
    title: 'Invalid CSV',
    detail: `${rows} row${rows === 1 ? ' is' : 's are'} invalid; nothing was imported. ${summary}${more}`,
    errors: listed,
  });
}

const importRoute = createRoute({
  operationId: 'importUsers',
  method: 'post',
  path: '/',
  summary: 'Create or replace many users from a CSV file',
  request: {
    body: {
      required: true,
      description: `UTF-8 CSV, one user per line: ${COLUMNS}, with an optional header line`,
      content: { 'text/csv': { schema: z.string().openapi({ example: 'username,password,display name\nalice,a long password,Alice' }) } },
    },
  },
  responses: {
    200: jsonResponse(z.object({ created: z.int(), replaced: z.int(), total: z.int() }).openapi('ImportResult'), 'every user was stored'),
    ...problems(400, 413, 415, 500),
  },
});

export const usersImport = apiApp();

usersImport.use('*', operatorAuth());

usersImport.openapi(importRoute, async (c) => {
  checkContentType(c.req.header('Content-Type'));
  const bytes = await readBounded(c.req.raw, MAX_IMPORT_BYTES);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    throw problemException({ status: 400, title: 'Invalid CSV', detail: 'the file is not valid UTF-8; save it as UTF-8 CSV' });
  }
  const { rows, errors } = validateImport(text);
  if (errors.length > 0) throw rowProblem(errors);

  const domain = callerDomain(c);
  const outcomes = await settleAll(rows, IMPORT_CONCURRENCY, async (row) => {
    // The password is hashed here, as in the PUT, and goes no further.
    const account = accountFromPassword({ username: row.username, domain, password: row.password, displayName: row.displayName });
    const stub = c.env.SIP_USER.get(c.env.SIP_USER.idFromName(aorForUser(row.username, domain)));
    return (await stub.putAccount(account)).created;
  });
  // Then listed in one RPC, as a PUT does: when that fails the users can register but the list
  // misses them; the answer says so, and sending the file again (or reading the users) heals it.
  const stored = rows.filter((_row, index) => outcomes[index]?.status === 'fulfilled');
  try {
    await directoryOf(c.env, domain).putUsers(stored.map((row) => ({ username: row.username, ...(row.displayName === undefined ? {} : { displayName: row.displayName }) })));
  } catch (error) {
    log.error('users.import-unlisted', { total: stored.length, ...errorFields(error) });
    throw problemException({
      status: 500,
      title: 'Import stored, not listed',
      detail: `${stored.length} users were stored and can register, but the user list could not be updated; send the file again`,
    });
  }
  const failed = rows.flatMap((row, index): RowError[] => (outcomes[index]?.status === 'fulfilled' ? [] : [{ line: row.line, field: 'row', detail: `user "${row.username}" could not be stored` }]));
  const created = outcomes.filter((outcome) => outcome.status === 'fulfilled' && outcome.value).length;
  const replaced = outcomes.filter((outcome) => outcome.status === 'fulfilled' && !outcome.value).length;
  if (failed.length > 0) {
    const firstFailure = outcomes.find((outcome) => outcome.status === 'rejected');
    log.error('users.import-incomplete', { failed: failed.length, total: rows.length, ...errorFields(firstFailure?.reason) });
    throw problemException({
      status: 500,
      title: 'Import incomplete',
      detail: `${failed.length} of ${rows.length} users could not be stored (${created} created, ${replaced} replaced); an import replaces what exists, so send the file again`,
      errors: failed.slice(0, MAX_LISTED_ERRORS),
    });
  }
  const result: ImportResult = { created, replaced, total: rows.length };
  return c.json(result, 200);
});
