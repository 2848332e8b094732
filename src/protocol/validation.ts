import { ValidationPipe } from '@nestjs/common';
import type { ValidationError } from 'class-validator';
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

export function validationMessages(errors: readonly ValidationError[], parent = ''): string[] {
  return errors.flatMap((error) => {
    const path = !parent ? error.property : /^\d+$/.test(error.property) ? `${parent}[${error.property}]` : `${parent}.${error.property}`;
    // Decorators apply bottom-up, so the last failed constraint is the first one written (the type check).
    const message = error.constraints ? Object.values(error.constraints).at(-1) : undefined;
    const own = message ? [message.startsWith(error.property) ? path + message.slice(error.property.length) : `${path}: ${message}`] : [];
    return [...own, ...validationMessages(error.children ?? [], path)];
  });
}
