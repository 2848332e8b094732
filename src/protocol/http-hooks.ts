import type { FastifyInstance } from 'fastify';
import { isAuthzCheck } from '../authz/check-route';
import { parseForm } from './form';
import { INTERACTION_ID_HEADER, resolveInteractionId } from './interaction-id';
import { ProtocolError } from './protocol-error';
import { matchedProfile } from './profiles';
import { setRequestContext } from './request-context';

/** docs/api.md §2: a revocation body over 16 KiB is refused with 413. */
export const PUBLIC_BODY_LIMIT = 16 * 1024;

/**
 * The first step of every request, before routing, parsing or any guard (docs/api.md §3):
 * settle the interaction id and the headers every response carries, so even a 404 or a 413 has
 * them. Then the request line's own rule: RFC 9112 §3.2, a server MUST answer 400 to an
 * HTTP/1.1 request without a Host header, or with more than one (Node's own answer to that has
 * neither interaction id nor body, so the check is made here: `requireHostHeader: false`).
 */
export function installResponseHeaders(fastify: FastifyInstance, surface: 'public' | 'management'): void {
  fastify.addHook('onRequest', async (request, reply) => {
    const { id, rejected } = resolveInteractionId(request.headers[INTERACTION_ID_HEADER]);
    const context = setRequestContext(request.raw, { interactionId: id, surface, profile: surface === 'public' ? matchedProfile(request) : undefined });
    reply.header(INTERACTION_ID_HEADER, id).header('cache-control', 'no-store');
    // docs/api.md §11.5: the enforcement check never answers 400. An id that is not a UUID is
    // replaced; the Host header is the API gateway's business, not a reason to let a request by
    // or to refuse it.
    if (surface === 'management' && isAuthzCheck(request)) {
      // Whatever the body's type — malformed, missing, JSON — the check reads none: one type that
      // only the draining parser takes (json-body.ts), so no parser can refuse it.
      request.headers['content-type'] = 'application/octet-stream';
      return;
    }
    if (rejected) {
      context.rejectedHeader = INTERACTION_ID_HEADER;
      throw ProtocolError.invalidRequest(`${INTERACTION_ID_HEADER} must be a UUID`);
    }
    const { httpVersionMajor: major, httpVersionMinor: minor } = request.raw;
    if (hostHeaders(request.raw.rawHeaders) !== 1 && (major > 1 || minor >= 1)) {
      throw ProtocolError.invalidRequest('an HTTP/1.1 request needs exactly one Host header');
    }
  });
}

function hostHeaders(rawHeaders: readonly string[]): number {
  let count = 0;
  for (let i = 0; i < rawHeaders.length; i += 2) if (rawHeaders[i].length === 4 && rawHeaders[i].toLowerCase() === 'host') count++;
  return count;
}

/**
 * The public port speaks forms (RFC 7009 §2.1, RFC 7662 §2.1), except the SSF poll endpoint, which
 * speaks JSON (RFC 8936 §2.4) and only it; any other media type is `invalid_request`. A poll's
 * body is handed over as text, parsed only once the stream and its token are known
 * (src/events/poll-request.ts), within the poll route's own body limit.
 */
export function acceptFormsOnly(fastify: FastifyInstance): void {
  fastify.removeAllContentTypeParsers();
  const unsupported = () => ProtocolError.invalidRequest('unsupported content type');
  fastify.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (request, body, done) => {
    if (request.routeOptions.url === POLL_ROUTE) return done(unsupported(), undefined);
    done(null, parseForm(body as string));
  });
  fastify.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    if (request.routeOptions.url !== POLL_ROUTE) return done(unsupported(), undefined);
    done(null, new JsonText(body as string));
  });
  fastify.addHook('onRoute', (route) => {
    route.bodyLimit = route.url === POLL_ROUTE ? POLL_BODY_LIMIT : PUBLIC_BODY_LIMIT;
  });
}

/** A JSON body not parsed yet (the poll route's). */
export class JsonText {
  constructor(readonly text: string) {}
}

/** docs/api.md §12.5: the poll endpoint's route, and the most its body may hold (2,000 acknowledgements with their errors). */
export const POLL_ROUTE = '/ssf/poll/:stream_id';
const POLL_BODY_LIMIT = 256 * 1024;
