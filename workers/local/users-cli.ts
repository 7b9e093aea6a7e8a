/**
 * `npm run users -- import FILE.csv`: adds or replaces the users of a CSV file
 * (`username,password[,display name]`, optional header line) on the local edge that `npm start`
 * runs, through `POST /api/v1/users/import`. The edge URL and the operator token come from
 * `.sipedge/local.json` (or the file SIPEDGE_LOCAL_CONFIG names), as `npm start` wrote them.
 *
 * Prints what was created and replaced; when rows are invalid, prints each (line, field, reason) on
 * stderr and exits with 1, and nothing is imported. Exits with 2 on a usage error.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const USAGE = `usage: npm run users -- import FILE.csv

  FILE.csv  one user per line: username,password[,display name]
            (UTF-8, RFC 4180 quoting; an optional first line "username,password,display name")

The local edge must be running (npm start); its URL and operator token are read from
${process.env.SIPEDGE_LOCAL_CONFIG ?? '.sipedge/local.json'} (SIPEDGE_LOCAL_CONFIG names another file).
`;

class CliError extends Error {
  readonly exitCode: number;
  constructor(message: string, exitCode = 1) {
    super(message);
    this.exitCode = exitCode;
  }
}

interface Target {
  readonly edgeUrl: URL;
  readonly operatorToken: string;
}

interface RowError {
  readonly line?: number;
  readonly field?: string;
  readonly detail: string;
}

interface ProblemBody {
  readonly title?: string;
  readonly detail?: string;
  readonly errors?: readonly RowError[];
}

interface ImportResult {
  readonly created: number;
  readonly replaced: number;
  readonly total: number;
}

function readTarget(): Target {
  const path = process.env.SIPEDGE_LOCAL_CONFIG ?? `${ROOT}.sipedge/local.json`;
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    const missing = error instanceof Error && 'code' in error && error.code === 'ENOENT';
    throw new CliError(missing ? `${path} does not exist; start the edge first with npm start` : `${path} is not readable JSON: ${String(error)}`);
  }
  const config = typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, unknown>) : {};
  if (typeof config.operatorToken !== 'string' || typeof config.edgeUrl !== 'string') {
    throw new CliError(`${path} has no edgeUrl or operatorToken; start the edge with npm start, which writes them`);
  }
  return { edgeUrl: new URL(config.edgeUrl), operatorToken: config.operatorToken };
}

async function request(target: Target, path: string, init: RequestInit): Promise<Response> {
  const url = new URL(path, target.edgeUrl);
  try {
    return await fetch(url, { ...init, headers: { Authorization: `Bearer ${target.operatorToken}`, ...init.headers } });
  } catch (error) {
    const cause = error instanceof Error && error.cause instanceof Error ? error.cause.message : String(error);
    throw new CliError(`the edge at ${target.edgeUrl.origin} does not answer (${cause}); is npm start running?`);
  }
}

async function problemOf(response: Response): Promise<ProblemBody> {
  const text = await response.text();
  try {
    const body: unknown = JSON.parse(text);
    if (typeof body === 'object' && body !== null) return body as ProblemBody;
  } catch {
    // not JSON: shown as text below
  }
  return { detail: text.slice(0, 500) };
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}

async function importUsers(file: string): Promise<void> {
  let body: Uint8Array<ArrayBuffer>;
  try {
    body = new Uint8Array(readFileSync(file));
  } catch (error) {
    throw new CliError(`cannot read ${file}: ${error instanceof Error ? error.message : String(error)}`);
  }
  const target = readTarget();
  const response = await request(target, '/api/v1/users/import', { method: 'POST', headers: { 'Content-Type': 'text/csv; charset=utf-8' }, body });
  if (response.ok) {
    const result = (await response.json()) as ImportResult;
    process.stdout.write(`${file}: imported ${plural(result.total, 'user')} (${result.created} created, ${result.replaced} replaced)\n`);
    return;
  }
  const problem = await problemOf(response);
  const errors = problem.errors ?? [];
  if (errors.length === 0) throw new CliError(`${file}: ${response.status} ${problem.title ?? response.statusText}: ${problem.detail ?? ''}`.trimEnd());
  const lines = errors.map((error) => `  ${error.line === undefined ? '' : `line ${error.line}: `}${error.field === undefined ? '' : `${error.field}: `}${error.detail}`);
  const heading = response.status === 400 ? `${file}: nothing imported; fix these rows and run again:` : `${file}: ${problem.detail ?? problem.title ?? response.status}`;
  throw new CliError([heading, ...lines].join('\n'));
}

async function main(args: readonly string[]): Promise<void> {
  const [command, ...rest] = args;
  if (command === 'import' && rest.length === 1 && rest[0] !== undefined) return importUsers(rest[0]);
  if (command === 'help' || command === '--help' || command === '-h') {
    process.stdout.write(USAGE);
    return;
  }
  throw new CliError(USAGE, 2);
}

try {
  await main(process.argv.slice(2));
} catch (error) {
  const exitCode = error instanceof CliError ? error.exitCode : 1;
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`.replace(/\n+$/, '\n'));
  process.exitCode = exitCode;
}
