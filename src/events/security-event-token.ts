import type { SigningKeys } from '../signing/signing-keys';
import type { StoredSet } from './set-store';

/** RFC 8417 §2.3: the media type of a SET is `application/secevent+jwt`, its JOSE `typ` `secevent+jwt`. */
export const SET_TYP = 'secevent+jwt';

/**
 * docs/api.md §12.3: the claims of a SET — the stream's `iss` and `aud`, `iat`, a unique `jti`,
 * `txn`, `sub_id` (SSF 1.0 §4.1.2: the subject at the top level) and exactly one event. RFC 8417
 * §2.2: no `sub` or `exp`.
 */
export function setClaims(stream: { readonly iss: string; readonly aud: string | readonly string[] }, set: StoredSet): Record<string, unknown> {
  return {
    iss: stream.iss,
    aud: stream.aud,
    iat: set.iat,
    jti: set.jti,
    txn: set.txn,
    sub_id: set.subId,
    events: { [set.eventType]: set.event },
  };
}

/** The SET as it was first sent, or signed now with the §13 key (header `alg`, `kid`, `typ`). */
export async function signedSet(
  keys: SigningKeys,
  stream: { readonly iss: string; readonly aud: string | readonly string[] },
  set: StoredSet,
): Promise<string> {
  return set.signed ?? keys.sign(setClaims(stream, set), SET_TYP);
}
