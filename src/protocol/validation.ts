import { ValidationPipe } from '@nestjs/common';
import { plainToInstance, type ClassConstructor } from 'class-transformer';
import { validateSync, type ValidationError } from 'class-validator';
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

/**
 * Validates a body against a DTO without class-transformer's deep copy (which, for a body of
 * 10,000 token entries, is a few hundred milliseconds in one turn of the event loop): the DTO's
 * own fields are checked as the pipe checks them, nested members are left to `validateEach`.
 * Use with `@Body() body: unknown`, which the global pipe leaves alone.
 */
export function validateShallow<T extends object>(type: ClassConstructor<T>, body: unknown): T {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw ProtocolError.invalidRequest('the body must be a JSON object');
  const instance = Object.assign(new type(), body);
  const errors = validateSync(instance, { whitelist: true });
  if (errors.length > 0) throw ProtocolError.invalidRequest(validationMessages(errors).slice(0, MAX_MESSAGES).join('; '));
  return instance;
}

/** Entries validated between two turns of the event loop: about 15 ms of class-validator work. */
const SLICE = 200;

/**
 * Transforms and validates a large array of DTOs as the pipe would (unknown fields dropped), a
 * slice at a time, yielding to the event loop between slices: 10,000 token entries are about a
 * second of validation, which done at once would stall the public port that shares the process.
 */
export async function validateEach<T extends object>(type: ClassConstructor<T>, items: readonly object[], path: string): Promise<T[]> {
  const valid: T[] = [];
  const messages: string[] = [];
  for (let start = 0; start < items.length && messages.length < MAX_MESSAGES; start += SLICE) {
    if (start > 0) await new Promise((resolve) => setImmediate(resolve));
    for (let i = start; i < Math.min(items.length, start + SLICE) && messages.length < MAX_MESSAGES; i++) {
      const instance = plainToInstance(type, items[i]);
      const errors = validateSync(instance, { whitelist: true });
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
