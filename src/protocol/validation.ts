import { ValidationPipe } from '@nestjs/common';
import type { ClassConstructor } from 'class-transformer';
import { getMetadataStorage, validateSync, type ValidationError } from 'class-validator';
import { ProtocolError } from './protocol-error';

/** Enough to act on; a batch of 10,000 bad tokens must not produce a 10,000-line answer. */
const MAX_MESSAGES = 3;

/**
 * DTO validation whose failures are `invalid_request` with one message per field, named by its
 * path (`tokens[3].expires_at ...`). Unknown fields are dropped, not refused.
 */
export function validationPipe(): ValidationPipe {
  return new ValidationPipe({
    whitelist: true,
    transform: true,
    exceptionFactory: (errors) => ProtocolError.invalidRequest(validationMessages(errors).slice(0, MAX_MESSAGES).join('; ')),
  });
}

/** The properties a DTO declares (its decorated fields), once per class. */
const declared = new WeakMap<ClassConstructor<object>, readonly string[]>();
function declaredProperties(type: ClassConstructor<object>): readonly string[] {
  let names = declared.get(type);
  if (!names) {
    names = [
      ...new Set(
        getMetadataStorage()
          .getTargetValidationMetadatas(type, '', true, false)
          .map((m) => m.propertyName),
      ),
    ];
    declared.set(type, names);
  }
  return names;
}

/**
 * The DTO built from `plain` as the pipe would validate it, but without class-transformer: only
 * the fields the DTO declares are copied (by reference), so neither unknown fields (a 66 MB
 * `junk` member) nor odd keys (`constructor`) are ever walked or copied. Only for DTOs whose
 * fields need no transformation (no @Type).
 */
function declaredFields<T extends object>(type: ClassConstructor<T>, plain: unknown): T | undefined {
  if (typeof plain !== 'object' || plain === null || Array.isArray(plain)) return undefined;
  const instance = new type();
  for (const name of declaredProperties(type)) {
    if (Object.hasOwn(plain, name)) (instance as Record<string, unknown>)[name] = (plain as Record<string, unknown>)[name];
  }
  return instance;
}

/**
 * Validates a body against a DTO without class-transformer's deep copy (which, for a body of
 * 10,000 token entries, is a few hundred milliseconds in one turn of the event loop): the DTO's
 * own fields are checked as the pipe checks them, nested members are left to `validateEach`.
 * Use with `@Body() body: unknown`, which the global pipe leaves alone.
 */
export function validateShallow<T extends object>(type: ClassConstructor<T>, body: unknown): T {
  const instance = declaredFields(type, body);
  if (!instance) throw ProtocolError.invalidRequest('the body must be a JSON object');
  const errors = validateSync(instance);
  if (errors.length > 0) throw ProtocolError.invalidRequest(validationMessages(errors).slice(0, MAX_MESSAGES).join('; '));
  return instance;
}

/** Entries validated between two turns of the event loop: about 15 ms of class-validator work. */
const SLICE = 200;

/**
 * Validates a large array of DTOs (their declared fields, as validateShallow), a slice at a time,
 * yielding to the event loop between slices: 10,000 token entries are about a second of
 * validation, which done at once would stall the public port that shares the process.
 */
export async function validateEach<T extends object>(type: ClassConstructor<T>, items: readonly unknown[], path: string): Promise<T[]> {
  const valid: T[] = [];
  const messages: string[] = [];
  for (let start = 0; start < items.length && messages.length < MAX_MESSAGES; start += SLICE) {
    if (start > 0) await new Promise((resolve) => setImmediate(resolve));
    for (let i = start; i < Math.min(items.length, start + SLICE) && messages.length < MAX_MESSAGES; i++) {
      const instance = declaredFields(type, items[i]);
      if (!instance) {
        messages.push(`${path}[${i}] must be an object`);
        continue;
      }
      const errors = validateSync(instance);
      if (errors.length > 0) messages.push(...validationMessages(errors, `${path}[${i}]`));
      else valid.push(instance);
    }
  }
  if (messages.length > 0) throw ProtocolError.invalidRequest(messages.slice(0, MAX_MESSAGES).join('; '));
  return valid;
}
export function validationMessages(errors: readonly ValidationError[], parent = ''): string[] {
  return errors.flatMap((error) => {
    const path = !parent ? error.property : /^\d+$/.test(error.property) ? `${parent}[${error.property}]` : `${parent}.${error.property}`;
    // Decorators apply bottom-up, so the last failed constraint is the first one written (the type check).
    const message = error.constraints ? Object.values(error.constraints).at(-1) : undefined;
    const own = message ? [message.startsWith(error.property) ? path + message.slice(error.property.length) : `${path}: ${message}`] : [];
    return [...own, ...validationMessages(error.children ?? [], path)];
  });
}
