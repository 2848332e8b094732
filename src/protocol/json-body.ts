import type { FastifyInstance } from 'fastify';
import { isAuthzCheck } from '../authz/check-route';
import { ProtocolError } from './protocol-error';

/**
 * Bounds on a JSON body's shape, checked on the raw text before it is parsed, let alone
 * transformed and validated. The admin API's deepest legitimate body is a JWK Set with RSA
 * `oth` members (6 levels); its widest, a registration of 10,000 tokens.
 */
export const MAX_JSON_DEPTH = 8;
export const MAX_JSON_MEMBERS = 10_000;
/** Values in the whole body: about 30 per entry of a full registration (10,000 tokens of ~11 fields). */
export const MAX_JSON_VALUES = 300_000;

/**
 * Why `text` is refused, or `undefined` when its nesting is within `maxDepth`, no array or object
 * has more than `maxMembers` members and there are at most `maxValues` members in all. One pass
 * over the text, no allocation: brackets and commas inside strings do not count. It checks shape
 * only; `JSON.parse` checks syntax.
 */
export function jsonShapeProblem(text: string, maxDepth = MAX_JSON_DEPTH, maxMembers = MAX_JSON_MEMBERS, maxValues = MAX_JSON_VALUES): string | undefined {
  const members: number[] = [];
  let values = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c)
        i++; // backslash: the next character is escaped
      else if (c === 0x22) inString = false;
      continue;
    }
    if (c === 0x22) {
      inString = true;
    } else if (c === 0x7b || c === 0x5b) {
      // { or [
      if (members.length >= maxDepth) return `JSON nesting deeper than ${maxDepth} levels`;
      if (++values > maxValues) return `more than ${maxValues} JSON values`;
      members.push(1);
    } else if (c === 0x7d || c === 0x5d) {
      members.pop();
    } else if (c === 0x2c && members.length > 0) {
      if (++members[members.length - 1] > maxMembers) return `a JSON array or object with more than ${maxMembers} members`;
      if (++values > maxValues) return `more than ${maxValues} JSON values`;
    }
  }
  return undefined;
}

/**
 * The management port reads JSON only (docs/api.md §9: JSON in, JSON out): any other
 * media type is refused (415 → `invalid_request`). The body limit is the route's own (the admin
 * routes set theirs); the shape is bounded before Fastify's parser, which also refuses
 * `__proto__` and `constructor.prototype` keys.
 */
export function acceptBoundedJsonOnly(fastify: FastifyInstance): void {
  const parse = fastify.getDefaultJsonParser('error', 'error');
  fastify.removeAllContentTypeParsers();
  fastify.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    const problem = jsonShapeProblem(body as string);
    if (problem) return done(ProtocolError.invalidRequest(problem), undefined);
    // The default parser is the callback kind: it answers through `done` and returns nothing.
    void parse(request, body as string, done);
  });
  // docs/api.md §11.5: the enforcement check takes any method with any body, and reads none: an
  // API gateway may pass the original request's body along (its content type is set to one only
  // this parser takes, in installResponseHeaders). Every other route: 400.
  fastify.addContentTypeParser('*', (request, payload, done) => {
    if (isAuthzCheck(request)) return ignoreBody(payload, done);
    done(ProtocolError.invalidRequest('unsupported content type', `content type ${String(request.headers['content-type'])}`), undefined);
  });
}

/** Drains a body nobody reads, so that the connection can be reused, and goes on at once. */
function ignoreBody(payload: NodeJS.ReadableStream, done: (error: Error | null, body?: unknown) => void): void {
  payload.resume();
  done(null, undefined);
}
