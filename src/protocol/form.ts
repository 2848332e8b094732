/** A parsed `application/x-www-form-urlencoded` body: repeated names keep every value. */
export type FormBody = Readonly<Record<string, string | readonly string[]>>;

/**
 * Decodes a form body (WHATWG rules: `+` is a space, bad escapes stay literal). RFC 6749 §3.2:
 * "Parameters sent without a value MUST be treated as if they were omitted from the request", so
 * `client_id=` next to HTTP Basic (as zitadel/oidc sends it) is no client_id, and `a=&a=x` is one
 * `a`.
 */
export function parseForm(body: string): FormBody {
  const form = Object.create(null) as Record<string, string | string[]>;
  for (const [name, value] of new URLSearchParams(body)) {
    if (value === '') continue;
    const seen = form[name];
    if (seen === undefined) form[name] = value;
    else if (typeof seen === 'string') form[name] = [seen, value];
    else seen.push(value);
  }
  return form;
}

/** The names that occur more than once: RFC 6749 §3.2 forbids repeated request parameters. */
export function repeatedParameters(form: FormBody): string[] {
  return Object.keys(form).filter((name) => typeof form[name] !== 'string');
}

/** A parameter's single value; `undefined` when absent (call `repeatedParameters` first). */
export function single(form: FormBody, name: string): string | undefined {
  const value = form[name];
  return typeof value === 'string' ? value : undefined;
}
