import { SESSION_REVOKED, TOKEN_REVOKED } from './stream-request';

/*
 * docs/api.md §12.3: the security events of a revocation, written by the revoking statement itself
 * as CTEs appended to it, so they commit with the revocation and its audit row, or not at all.
 * What is written is what the SET will say; it is signed later, by whoever delivers it (the push
 * worker or a poll), outside the revocation's locks.
 */

export const VERIFICATION = 'https://schemas.openid.net/secevent/ssf/event-type/verification';

/** A revocation's cause, as the events say it (docs/api.md §12.3). */
export type Initiator = 'user' | 'admin';

const REASON_ADMIN: Record<Initiator, string> = {
  user: 'Revoked at the request of the client acting for the user',
  admin: 'Revoked by the operator',
};

/** RFC 4648 §5 base64url of a bytea, unpadded (a 32-byte hash is one line of base64: no line breaks to remove). */
const base64url = (bytes: string) => `translate(rtrim(encode(${bytes}, 'base64'), '='), '+/', '-_')`;

/** docs/api.md §12.3: a registered token's `sub_id`, from its hash. */
export const opaqueTokenSubId = (hash: string) => `jsonb_build_object('format', 'opaque', 'id', ${base64url(hash)})`;

/** docs/api.md §12.3: a grant's `sub_id`, with its user when the subject is known. */
export const sessionSubId = (grant: string, subject: string, iss: string) =>
  `jsonb_build_object('format', 'complex', 'session', jsonb_build_object('format', 'opaque', 'id', ${grant}))
     || CASE WHEN ${subject} IS NULL THEN '{}'::jsonb ELSE jsonb_build_object('user', jsonb_build_object('format', 'iss_sub', 'iss', ${iss}, 'sub', ${subject})) END`;

export interface EventSource {
  /**
   * A query of the tokens the statement revoked, with columns `tenant`, `token_hash`,
   * `token_type`, `grant_id` (null: names no grant), `subject`, `txn` (the interaction id),
   * `ord` (the request: each request's grants get their own session-revoked, also when requests
   * share a statement), `jwt_iss` and `jwt_jti` (a JWT access token's, else null).
   */
  readonly revoked: string;
  /** The tenants whose streams may get events (an expression of type text[]). */
  readonly tenants: string;
  readonly initiator: Initiator;
  /**
   * docs/api.md §12.3: a bulk revocation by subject alone gives one session-revoked for the
   * subject instead of one per grant: a boolean expression saying so, the subject and the request's
   * interaction id. Absent: one per grant touched.
   */
  readonly bySubject?: { readonly when: string; readonly subject: string; readonly txn: string };
  /**
   * A revocation of any size (the bulk one): its per-token and per-grant events are written as one
   * bundle (the request's interaction id, `txn`), made into SETs after the statement, in chunks
   * (src/events/set-expander.ts), so the statement and its locks do not wait for 100,000 rows.
   */
  readonly bundle?: { readonly txn: string };
}

/** The CTE that writes a bundle of the revoked tokens and grants, for the streams that asked for each type. */
function bundleCte(txn: string, reason: string, sessionEvent: string, perGrant: string): string {
  return `
, set_bundle AS (
  INSERT INTO ssf_set_bundles (txn, reason, session_event, token_streams, token_epochs, session_streams, session_epochs, token_hashes, token_types, grant_ids, grant_subjects)
  SELECT ${txn}::text, '${reason}', ${sessionEvent},
         ARRAY(SELECT stream_id FROM set_streams WHERE tokens ORDER BY stream_id), ARRAY(SELECT epoch FROM set_streams WHERE tokens ORDER BY stream_id),
         ARRAY(SELECT stream_id FROM set_streams WHERE sessions AND ${perGrant} ORDER BY stream_id),
         ARRAY(SELECT epoch FROM set_streams WHERE sessions AND ${perGrant} ORDER BY stream_id),
         t.hashes, t.types, COALESCE(g.ids, '{}'), COALESCE(g.subjects, '{}')
    FROM (SELECT array_agg(token_hash) AS hashes, array_agg(token_type) AS types FROM set_revoked) t,
         (SELECT array_agg(grant_id) AS ids, array_agg(subject) AS subjects
            FROM (SELECT DISTINCT ON (grant_id) grant_id, subject FROM set_revoked WHERE grant_id IS NOT NULL ORDER BY grant_id, ord) d) g
   WHERE EXISTS (SELECT 1 FROM set_streams WHERE tokens OR (sessions AND ${perGrant})) AND EXISTS (SELECT 1 FROM set_revoked)
)`;
}

/**
 * The CTEs (each starting with a comma) that write the SETs of `source` for every enabled or paused
 * stream of its tenants that requested the type; a disabled stream gets none (docs/api.md §12.2).
 * Nothing references them: PostgreSQL runs a data-modifying CTE to completion whether or not its
 * output is read.
 */
export function eventCtes(source: EventSource): string {
  const reason = source.initiator === 'user' ? 'api' : 'admin';
  const sessionEvent = `jsonb_build_object('event_timestamp', extract(epoch FROM now())::bigint, 'initiating_entity', '${source.initiator}',
                        'reason_admin', jsonb_build_object('en', '${REASON_ADMIN[source.initiator]}'))`;
  const perGrant = source.bySubject ? `NOT (${source.bySubject.when})` : 'true';
  const perToken = source.bundle ? bundleCte(source.bundle.txn, reason, sessionEvent, perGrant) : tokenCtes(reason, sessionEvent, perGrant);
  return `
, set_streams AS MATERIALIZED (
  SELECT s.stream_id, s.epoch, s.tenant, s.iss, '${TOKEN_REVOKED}' = ANY (s.events_requested) AS tokens, '${SESSION_REVOKED}' = ANY (s.events_requested) AS sessions
    FROM ssf_streams s WHERE s.tenant = ANY (${source.tenants}) AND s.status <> 'disabled'
), set_revoked AS MATERIALIZED (
  ${source.revoked}
)${perToken}${
    source.bySubject
      ? `, subject_sets AS (
  INSERT INTO ssf_sets (stream_id, epoch, event_type, sub_id, event, txn)
  SELECT s.stream_id, s.epoch, '${SESSION_REVOKED}', jsonb_build_object('format', 'iss_sub', 'iss', s.iss, 'sub', ${source.bySubject.subject}::text),
         ${sessionEvent}, ${source.bySubject.txn}::text
    FROM set_streams s WHERE s.sessions AND (${source.bySubject.when})
)`
      : ''
  }`;
}

/** The CTEs that write one SET per revoked token and one per grant touched, for the streams that asked for each type. */
function tokenCtes(reason: string, sessionEvent: string, perGrant: string): string {
  return `
, token_sets AS (
  INSERT INTO ssf_sets (stream_id, epoch, event_type, sub_id, event, txn)
  SELECT s.stream_id, s.epoch, '${TOKEN_REVOKED}',
         CASE WHEN v.jwt_jti IS NOT NULL THEN jsonb_build_object('format', 'jwt_id', 'iss', v.jwt_iss, 'jti', v.jwt_jti)
              ELSE ${opaqueTokenSubId('v.token_hash')} END,
         jsonb_build_object('token_type', v.token_type, 'reason', '${reason}'), v.txn
    FROM set_revoked v JOIN set_streams s ON s.tenant = v.tenant AND s.tokens
), session_sets AS (
  INSERT INTO ssf_sets (stream_id, epoch, event_type, sub_id, event, txn)
  SELECT s.stream_id, s.epoch, '${SESSION_REVOKED}',
         ${sessionSubId('g.grant_id', 'g.subject', 's.iss')}, ${sessionEvent}, g.txn
    FROM (SELECT DISTINCT ON (tenant, grant_id, ord) tenant, grant_id, subject, txn FROM set_revoked
           WHERE grant_id IS NOT NULL AND ${perGrant} ORDER BY tenant, grant_id, ord) g
    JOIN set_streams s ON s.tenant = g.tenant AND s.sessions
)`;
}

/**
 * docs/api.md §12.2 `POST …/verify`: one verification SET for the stream, unless it is disabled
 * (which makes none); `state` is echoed when given. Answers whether one was written.
 */
export const VERIFICATION_SQL = `
INSERT INTO ssf_sets (stream_id, epoch, event_type, sub_id, event, txn)
SELECT stream_id, epoch, '${VERIFICATION}', jsonb_build_object('format', 'opaque', 'id', stream_id::text),
       CASE WHEN $2::text IS NULL THEN '{}'::jsonb ELSE jsonb_build_object('state', $2::text) END, $3
  FROM ssf_streams WHERE stream_id = $1 AND status <> 'disabled'
RETURNING jti`;
