/**
 * Caller-ID templates: a display name or a user part written with `{variable}` placeholders over
 * the calling user's attributes, e.g. `{display_name} (Sales)` or `+4930555{extension}`.
 *
 * The variables a template may use are known when it is configured: `username` and `dialled`
 * always, and the user attributes the domain declares (`user_attributes` in the routing settings).
 * A template naming anything else is refused then, naming the placeholder. At call time a user
 * may still lack a declared attribute: the template then does not apply (`render` says which
 * variable was missing) and the caller ID falls back to the next source.
 *
 * `{` and `}` outside a placeholder are refused: templates have no escape syntax.
 */

export const BUILT_IN_VARIABLES = ['username', 'dialled'] as const;

const PLACEHOLDER = /\{([^{}]*)\}/g;
const VARIABLE_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;

/** The problems of `template` given the variables that may appear, one sentence each; empty when fine. */
export function templateErrors(template: string, known: readonly string[]): string[] {
  const errors: string[] = [];
  const outside = template.replace(PLACEHOLDER, '');
  if (outside.includes('{') || outside.includes('}')) errors.push('has an unmatched "{" or "}"');
  for (const match of template.matchAll(PLACEHOLDER)) {
    const name = match[1] as string;
    if (!VARIABLE_NAME.test(name)) errors.push(`placeholder {${name}} is not a variable name`);
    else if (!known.includes(name)) errors.push(`unknown placeholder {${name}} (known: ${known.map((k) => `{${k}}`).join(', ')})`);
  }
  return errors;
}

export type Rendered = { readonly ok: true; readonly text: string } | { readonly ok: false; readonly missing: string };

/** The template with its placeholders filled in, or the first variable `variables` lacks. */
export function renderTemplate(template: string, variables: Readonly<Record<string, string>>): Rendered {
  let missing: string | undefined;
  const text = template.replace(PLACEHOLDER, (_whole, name: string) => {
    const value = Object.hasOwn(variables, name) ? variables[name] : undefined;
    if (value === undefined) {
      missing ??= name;
      return '';
    }
    return value;
  });
  return missing === undefined ? { ok: true, text } : { ok: false, missing };
}
