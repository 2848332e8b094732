import { ValidateBy, type ValidationError } from 'class-validator';

// Conversions read the raw string (`obj[key]`), so that nothing but the exact spellings converts:
// '   ' is not 0 and 'false' is not true.
export type Raw = { obj: Record<string, unknown>; key: string };
export const toInteger = ({ obj, key }: Raw) => (typeof obj[key] === 'string' && /^\d+$/.test(obj[key]) ? Number(obj[key]) : obj[key]);

/**
 * One line per bad variable (docs/api.md §1), naming it and the reason; the value is shown only for
 * variables that are not sensitive.
 */
export function problemLines(errors: ValidationError[], raw: Record<string, string>, sensitive: ReadonlySet<string>): string[] {
  return errors.map((error) => {
    // Decorators apply bottom-up, so the last failed constraint is the first one written: the type check.
    const reason = Object.values(error.constraints ?? {}).at(-1) ?? 'is invalid';
    const shown = sensitive.has(error.property) ? '' : ` (got ${JSON.stringify(raw[error.property])})`;
    return `Invalid configuration: ${reason.startsWith(error.property) ? reason : `${error.property} ${reason}`}${shown}`;
  });
}

/**
 * A URL `new URL()` accepts, with one of these schemes (a bad port or host fails here, not at
 * connect). `plain`: no credentials (they belong in variables that are never logged) and no fragment.
 */
export const IsUrlWith = (protocols: string[], { plain = false } = {}) =>
  ValidateBy({
    name: 'isUrlWith',
    validator: {
      validate: (value) => {
        try {
          const url = new URL(String(value));
          if (typeof value !== 'string' || !protocols.includes(url.protocol) || url.hostname === '') return false;
          return !plain || (!url.username && !url.password && !url.hash);
        } catch {
          return false;
        }
      },
      defaultMessage: () => `must be a ${protocols.map((p) => `${p}//`).join(' or ')} URL${plain ? ' without credentials or fragment' : ''}`,
    },
  });
