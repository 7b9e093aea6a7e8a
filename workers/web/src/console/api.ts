/**
 * The console's client for the operator API (/api/v1): the bearer token from sessionStorage, JSON
 * in and out, and RFC 9457 problem documents turned into errors that say what the edge said.
 */
const TOKEN_KEY = 'sipedge.operatorToken';

export class ApiError extends Error {
  readonly status: number;

  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}

export function savedToken(): string | undefined {
  return sessionStorage.getItem(TOKEN_KEY) ?? undefined;
}

export function saveToken(token: string | undefined): void {
  if (token === undefined) sessionStorage.removeItem(TOKEN_KEY);
  else sessionStorage.setItem(TOKEN_KEY, token);
}

export async function apiFetch(path: string, init: RequestInit = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  headers.set('Authorization', `Bearer ${savedToken() ?? ''}`);
  if (init.body !== undefined) headers.set('Content-Type', 'application/json');
  const response = await fetch(`/api/v1${path}`, { ...init, headers });
  if (!response.ok) throw new ApiError(response.status, await problemText(response));
  return response;
}

export async function apiJson<T>(path: string, init: RequestInit = {}): Promise<T> {
  return (await (await apiFetch(path, init)).json()) as T;
}

async function problemText(response: Response): Promise<string> {
  const text = await response.text();
  try {
    const problem = JSON.parse(text) as { title?: string; detail?: string };
    return [problem.title, problem.detail].filter((part) => part !== undefined && part !== '').join(': ') || `${response.status} ${response.statusText}`;
  } catch {
    return `${response.status} ${response.statusText}`;
  }
}

/** A 404 or 405 on a resource path: this edge does not have that endpoint (as opposed to a missing item). */
export function endpointMissing(error: unknown): boolean {
  return error instanceof ApiError && (error.status === 405 || (error.status === 404 && /nothing at/i.test(error.message)));
}
