import { ProtocolError } from '../protocol/protocol-error';

/** RFC 6750 §3: what a refused request is told, whatever the reason (docs/api.md §11.5). */
export const CHALLENGE = { 'www-authenticate': 'Bearer error="invalid_token"' };

/** The check's 401: the same answer for every reason; `detail` is logged, never sent. */
export function notActive(detail?: string): ProtocolError {
  return new ProtocolError('invalid_token', 'the access token is not active', { headers: CHALLENGE, detail });
}
