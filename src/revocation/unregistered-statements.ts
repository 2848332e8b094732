import { eventCtes } from '../events/event-statements';

/*
 * The revocation of a token the gateway knows without its registration (docs/api.md §11.3,
 * §11.4): one statement, outside the group commit, in the lock order of revocation-statements.ts
 * (one token row, no consent).
 */

/**
 * A token that nobody registered, revoked by a client: a JWT access token (docs/api.md §11.3) or
 * one the upstream said is active (docs/api.md §11.4). The client's own ($4) is written to
 * `tokens` born revoked — the denylist, by hash, until its `exp` — as its type ($16), with its
 * audit row, outbox row and security events (a JWT's named by its `iss` and `jti`, $17 and $18), all in one statement; another client's is audited as `foreign` and
 * changes nothing. No level reaches beyond the token: it is recorded without a consent or a
 * parent, so no later cascade starts from it. Should it have been registered meanwhile, the
 * registered row is revoked instead if it is the client's (the update trigger tells the
 * replicas; the insert trigger does for a new row), and is `foreign` if it is another's.
 */
export const REVOKE_UNREGISTERED_SQL = `
WITH recorded AS (
  INSERT INTO tokens (tenant, token_hash, token_type, client_id, grant_id, subject, scope, cnf, issued_at, expires_at, revoked_at)
  SELECT $1, $2, $16, $3, $5, $6, $7, $8::jsonb, $9, $10, now() WHERE $4::boolean
  ON CONFLICT (token_hash, tenant) DO UPDATE SET revoked_at = now()
   WHERE tokens.revoked_at IS NULL AND tokens.client_id = EXCLUDED.client_id
  RETURNING token_hash, token_type
), event AS (
  INSERT INTO revocation_events (interaction_id, tenant, client_id, profile, token_type, level, revoked, outcome, psu_ip)
  SELECT $11::uuid, $1, $3, $12, $16, 'NONE', (SELECT count(*) FROM recorded),
         CASE WHEN $4::boolean AND NOT EXISTS (SELECT 1 FROM tokens x WHERE x.tenant = $1 AND x.token_hash = $2 AND x.client_id <> $3)
              THEN 'revoked' ELSE 'foreign' END, $13
  RETURNING outcome
), outbox AS (
  INSERT INTO upstream_outbox (tenant, sealed_token, token_type, level, interaction_id, attempts, next_attempt_at)
  SELECT $1, $14, $16, 'NONE', $11, 1, clock_timestamp() + $15::int * interval '1 millisecond'
   WHERE $14::bytea IS NOT NULL AND (SELECT outcome FROM event) = 'revoked'
  RETURNING id, token_type, level
)${eventCtes({
  // No grant is known (a JWT names none; an upstream answer's is the upstream's), so no session-revoked.
  revoked: `SELECT $1::text AS tenant, token_hash, token_type, NULL::text AS grant_id, NULL::text AS subject, $11::uuid::text AS txn, 0 AS ord,
                   $17::text AS jwt_iss, $18::text AS jwt_jti FROM recorded`,
  tenants: 'ARRAY[$1::text]',
  initiator: 'user',
})}
SELECT 1 AS idx, e.outcome, $16::text AS token_type,
       CASE WHEN $16::text = 'access_token' THEN (SELECT count(*) FROM recorded)::int ELSE 0 END AS revoked_access,
       CASE WHEN $16::text = 'refresh_token' THEN (SELECT count(*) FROM recorded)::int ELSE 0 END AS revoked_refresh,
       (SELECT count(*) FROM recorded) > 0 AS presented_revoked,
       (SELECT id::text FROM outbox) AS outbox_id, (SELECT token_type FROM outbox) AS outbox_token_type, (SELECT level FROM outbox) AS outbox_level
  FROM event e`;
