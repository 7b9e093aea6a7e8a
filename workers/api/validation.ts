/**
 * zod results as RFC 9457 problems that name every offending field.
 */
import type { z } from 'zod';
import { problemException, type FieldError } from './problem.ts';

/** Parses `value` or throws a 400 problem naming each invalid field (body members as JSON Pointers). */
export function parseBody<S extends z.ZodType>(schema: S, value: unknown): z.infer<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  throw invalidInput(result.error, 'body');
}

/**
 * The 400 problem for a failed parse: body members as JSON Pointers (RFC 6901), parameters (path
 * or query) by name. Unknown members are named one by one.
 */
export function invalidInput(error: z.ZodError, where: 'body' | 'parameter'): Error {
  const name = (path: readonly PropertyKey[]): FieldError =>
    where === 'body' ? { pointer: `#/${path.map((part) => escapePointer(String(part))).join('/')}`, detail: '' } : { parameter: path.map(String).join('.'), detail: '' };
  const errors: FieldError[] = error.issues.flatMap((issue): FieldError[] => {
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((key) => ({ ...name([...issue.path, key]), detail: 'is not a known field' }));
    }
    return [{ ...name(issue.path), detail: issue.message }];
  });
  return invalid(errors);
}

/** Parses a path parameter or throws a 400 problem naming it. */
export function parseParameter<S extends z.ZodType>(schema: S, name: string, value: string | undefined): z.infer<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  throw invalid(result.error.issues.map((issue) => ({ parameter: name, detail: issue.message })));
}

/** The JSON body, or a 400 problem when it is not JSON. */
export async function readJson(request: Request): Promise<unknown> {
  try {
    return await request.json();
  } catch {
    throw problemException({ status: 400, title: 'Invalid JSON', detail: 'the request body must be a JSON object' });
  }
}

function invalid(errors: readonly FieldError[]): Error {
  const detail = errors.map((error) => `${error.pointer?.slice(2) ?? error.parameter ?? ''}: ${error.detail}`).join('; ');
  return problemException({ status: 400, title: 'Invalid request', detail, errors });
}

// RFC 6901 §3: '~' is written '~0' and '/' is written '~1'.
function escapePointer(segment: string): string {
  return segment.replaceAll('~', '~0').replaceAll('/', '~1');
}
