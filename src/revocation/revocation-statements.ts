import { eventCtes } from '../events/event-statements';

/*
 * The revocation statements: a client's tokens (one request, or many waiting together), a CDR
 * arrangement, and the operator's bulk revocation. Each revokes its tokens, marks its consent and
 * writes its audit row (and outbox row) in one statement, all or nothing; data-modifying CTEs
 * share one snapshot (PostgreSQL "WITH Queries").
 *
 * Lock order, for every statement that revokes or registers (token-registry.ts follows it too):
 * consents by (tenant, id) first, then tokens by (tenant, hash) with `ORDER BY … FOR UPDATE` (an
 * UPDATE's join order depends on the plan, so it cannot be trusted to lock in order).
 * - A consent to revoke is locked by an earlier statement of the same transaction
 *   (CONSENT_LOCKS_SQL, LOCK_CONSENT_SQL, LOCK_BULK_CONSENT_SQL), and the revocation statement is
 *   told which it got. It then sees every token registered under them before, and a registration
 *   after waits for the commit and finds the consent revoked. A consent the statement would
 *   revoke that was not locked (its token or the consent itself was registered between the two
 *   statements) is `unlocked`: the guard aborts, and the next try locks it.
 * - A lone request goes through the batch statement too: a second statement shape with another
 *   lock order deadlocked against batches.
 * - A refresh token's family is serialised optimistically. A registration bumps the parent's
 *   `family_version` under lock before it reads it. Every victim that was live in the
 *   statement's snapshot is locked whatever it is now (READ COMMITTED returns the newest version
 *   of a locked row) and its version compared with the snapshot's: a moved version is a child
 *   registered since the snapshot, which the snapshot cannot see, so `revgw_family_unchanged`
 *   aborts with a serialization failure and the statement runs again (the engine's
 *   retryingConflicts). A victim revoked by someone else meanwhile is still checked (its version
 *   says whether its family grew), and a revocation never moves a version, so concurrent
 *   cascades do not retry.
 * - The bulk revocation locks everything it matches before its statement, in hash order
 *   (LOCK_BULK_TOKENS_SQL): optimistically, a client that keeps getting tokens could never be
 *   offboarded, as some refresh token's family would always have grown.
 * Whatever meets rows another transaction holds waits at most the lock timeout and answers 503,
 * to be retried; a deadlock or serialization failure is retried at once.
 *
 * Plans: prepared statements keep one generic plan per connection (data-source-options.ts),
 * made from whatever statistics the table had then. A consent's tokens are a MATERIALIZED step,
 * so the planner cannot turn the path to their refresh tokens around (from every token of the
 * tenant to the consent), which it did when the plan was made on a nearly empty table. The bulk
 * revocation alone is planned for its own criteria on every execution (see revokeInBulk).
 */

/**
 * Revocations as one statement — one request, or many waiting together (group commit) — so one
 * round trip and one implicit transaction: for each request (`idx` is its position) find the
 * token, check its owner, pick the cascade for its level, revoke, mark the consent, write the
 * audit row and the outbox row.
 *
 * Levels (docs/api.md §2 "Revocation levels"), each including the one below it: NONE the token
 * only; RELATED_TOKENS also an access token's parent refresh token, or a refresh token's access
 * tokens; RELATED_CONSENT also every token of the consent, the refresh tokens its access tokens
 * came from, and the consent itself (without a consent: as RELATED_TOKENS).
 *
 * - Cascades stay within the requesting client (`claimed` joins each victim to its request's
 *   client), whatever the data says: one client can never revoke another's token.
 * - A token named by several requests in one batch is revoked once and counted for the first of
 *   them; the others see it "already revoked", as if they had come a moment later.
 * - A batch with a RELATED_CONSENT request runs after CONSENT_LOCKS_SQL, which passes the
 *   consents it locked in ($12, $13).
 * - The interaction id comes once, as the caller spelled it ($6, text): the outbox forwards it
 *   upstream verbatim, the audit row casts it to its uuid column.
 * - The outbox (docs/api.md §6): the presented token only; an unknown token too, without a
 *   level; never another client's token, in this tenant or any other. Its lease counts from
 *   after the revocation ran (clock_timestamp), and rows are matched back to their request by
 *   their sealed token, which a random IV makes unique.
 */
export const REVOKE_BATCH_SQL = `
WITH req AS (
  SELECT * FROM unnest($1::text[], $2::bytea[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::bytea[], $10::text[])
    WITH ORDINALITY AS r(tenant, token_hash, client_id, lvl_access, lvl_refresh, interaction_id, profile, psu_ip, sealed, hint, idx)
), target AS (
  SELECT r.idx, t.tenant, t.token_hash, t.token_type, t.client_id, t.consent_id, t.parent_hash, t.family_version, t.revoked_at IS NULL AS live,
         CASE WHEN t.token_type = 'refresh_token' THEN r.lvl_refresh ELSE r.lvl_access END AS requested
  FROM req r JOIN tokens t ON t.token_hash = r.token_hash AND t.tenant = r.tenant
), owned AS (
  SELECT t.idx, t.tenant, t.token_hash, t.token_type, t.client_id, t.consent_id, t.parent_hash, t.family_version, t.live, t.requested,
         CASE WHEN t.requested = 'RELATED_CONSENT' AND t.consent_id IS NULL THEN 'RELATED_TOKENS' ELSE t.requested END AS level
  FROM target t JOIN req r ON r.idx = t.idx WHERE t.client_id = r.client_id
), consent_members AS MATERIALIZED (
  SELECT o.idx, o.tenant, k.token_hash, k.client_id, k.token_type, k.parent_hash, k.family_version, k.revoked_at IS NULL AS live
    FROM owned o JOIN tokens k ON k.tenant = o.tenant AND k.consent_id = o.consent_id
   WHERE o.level = 'RELATED_CONSENT'
), victims AS (
  SELECT o.idx, o.tenant, o.token_hash, o.client_id, o.family_version, o.live FROM owned o
  UNION
  SELECT o.idx, o.tenant, p.token_hash, p.client_id, p.family_version, p.revoked_at IS NULL FROM owned o
    JOIN tokens p ON p.token_hash = o.parent_hash AND p.tenant = o.tenant
   WHERE o.level IN ('RELATED_TOKENS', 'RELATED_CONSENT') AND o.token_type = 'access_token'
  UNION
  SELECT o.idx, o.tenant, c.token_hash, c.client_id, c.family_version, c.revoked_at IS NULL FROM owned o
    JOIN tokens c ON c.tenant = o.tenant AND c.parent_hash = o.token_hash
   WHERE o.level IN ('RELATED_TOKENS', 'RELATED_CONSENT') AND o.token_type = 'refresh_token'
  UNION
  SELECT m.idx, m.tenant, m.token_hash, m.client_id, m.family_version, m.live FROM consent_members m
  UNION
  SELECT m.idx, m.tenant, p.token_hash, p.client_id, p.family_version, p.revoked_at IS NULL FROM consent_members m
    JOIN tokens p ON p.token_hash = m.parent_hash AND p.tenant = m.tenant
   WHERE m.token_type = 'access_token'
), claimed AS (
  SELECT DISTINCT ON (v.tenant, v.token_hash) v.idx, v.tenant, v.token_hash, v.family_version, v.live
    FROM victims v JOIN req r ON r.idx = v.idx WHERE v.client_id = r.client_id
   ORDER BY v.tenant, v.token_hash, v.idx
), unlocked AS (
  SELECT 1 FROM (SELECT DISTINCT tenant, consent_id FROM owned WHERE level = 'RELATED_CONSENT') o
    JOIN consents k ON k.tenant = o.tenant AND k.consent_id = o.consent_id AND k.revoked_at IS NULL
   WHERE NOT EXISTS (SELECT 1 FROM unnest($12::text[], $13::text[]) AS l(tenant, consent_id) WHERE l.tenant = o.tenant AND l.consent_id = o.consent_id)
), locked AS (
  SELECT c.idx, t.tenant, t.token_hash, t.family_version <> c.family_version AS changed
    FROM claimed c JOIN tokens t ON t.token_hash = c.token_hash AND t.tenant = c.tenant
   WHERE c.live
   ORDER BY t.tenant, t.token_hash FOR UPDATE OF t
), revoked AS (
  UPDATE tokens t SET revoked_at = now() FROM locked l
   WHERE t.token_hash = l.token_hash AND t.tenant = l.tenant AND t.revoked_at IS NULL
     AND revgw_family_unchanged((SELECT bool_or(changed) FROM locked) OR EXISTS (SELECT 1 FROM unlocked))
  RETURNING l.idx, t.tenant, t.token_hash, t.token_type, t.grant_id, t.subject
), consent AS (
  UPDATE consents k SET revoked_at = now()
    FROM (SELECT DISTINCT tenant, consent_id FROM owned WHERE level = 'RELATED_CONSENT') o
   WHERE k.tenant = o.tenant AND k.consent_id = o.consent_id AND k.revoked_at IS NULL AND (SELECT count(*) FROM revoked) >= 0
     AND revgw_family_unchanged(EXISTS (SELECT 1 FROM unlocked))
  RETURNING 1
), tally AS (
  SELECT idx, count(*) FILTER (WHERE token_type = 'access_token')::int AS access,
         count(*) FILTER (WHERE token_type = 'refresh_token')::int AS refresh,
         bool_or(token_hash = (SELECT token_hash FROM req q WHERE q.idx = revoked.idx)) AS presented
    FROM revoked GROUP BY idx
), answer AS (
  SELECT r.idx, r.interaction_id, r.tenant, r.client_id, r.profile, r.psu_ip, r.sealed, r.hint, r.token_hash,
         tg.token_type, o.level, o.requested, COALESCE(ty.access, 0) AS access, COALESCE(ty.refresh, 0) AS refresh,
         COALESCE(ty.presented, false) AS presented,
         CASE WHEN tg.idx IS NULL THEN 'unknown' WHEN o.idx IS NULL THEN 'foreign' ELSE 'revoked' END AS outcome
    FROM req r LEFT JOIN target tg ON tg.idx = r.idx LEFT JOIN owned o ON o.idx = r.idx LEFT JOIN tally ty ON ty.idx = r.idx
), event AS (
  INSERT INTO revocation_events (interaction_id, tenant, client_id, profile, token_type, level, revoked, outcome, psu_ip)
  SELECT interaction_id::uuid, tenant, client_id, profile, token_type, level, access + refresh, outcome, psu_ip FROM answer ORDER BY idx
  RETURNING 1
), outbox AS (
  INSERT INTO upstream_outbox (tenant, sealed_token, token_type, level, interaction_id, attempts, next_attempt_at)
  SELECT a.tenant, a.sealed, COALESCE(a.token_type, a.hint), a.requested, a.interaction_id, 1, clock_timestamp() + $11::int * interval '1 millisecond'
    FROM answer a
   WHERE a.sealed IS NOT NULL AND (SELECT count(*) FROM revoked) >= 0 AND (SELECT count(*) FROM event) >= 0
     AND (a.outcome = 'revoked' OR (a.outcome = 'unknown' AND NOT EXISTS (SELECT 1 FROM tokens x WHERE x.token_hash = a.token_hash)))
  RETURNING id, sealed_token, token_type, level
)${eventCtes({
  revoked: `SELECT v.tenant, v.token_hash, v.token_type, v.grant_id, v.subject, r.interaction_id AS txn, v.idx AS ord, NULL::text AS jwt_iss, NULL::text AS jwt_jti
              FROM revoked v JOIN req r ON r.idx = v.idx`,
  tenants: '$1::text[]',
  initiator: 'user',
})}
SELECT a.idx::int, a.outcome, a.token_type, a.access AS revoked_access, a.refresh AS revoked_refresh, a.presented AS presented_revoked,
       ob.id::text AS outbox_id, ob.token_type AS outbox_token_type, ob.level AS outbox_level
  FROM answer a LEFT JOIN outbox ob ON ob.sealed_token = a.sealed
 ORDER BY a.idx`;

/**
 * The first statement of a batch with RELATED_CONSENT requests: the consents of those requests'
 * own tokens, locked in (tenant, id) order before the revocation statement takes its snapshot.
 */
export const CONSENT_LOCKS_SQL = `
SELECT k.tenant, k.consent_id FROM consents k
  JOIN (SELECT DISTINCT t.tenant, t.consent_id
          FROM unnest($1::text[], $2::bytea[], $3::text[]) AS r(tenant, token_hash, client_id)
          JOIN tokens t ON t.token_hash = r.token_hash AND t.tenant = r.tenant AND t.client_id = r.client_id
         WHERE t.consent_id IS NOT NULL) c ON k.tenant = c.tenant AND k.consent_id = c.consent_id
 WHERE k.revoked_at IS NULL
 ORDER BY k.tenant, k.consent_id FOR UPDATE OF k`;

/** The one row a consent or bulk revocation answers with: its event's outcome and what it revoked, as a RevocationRow. */
const COUNTED_ROW = `SELECT 1 AS idx, e.outcome, NULL AS token_type,
       (SELECT count(*) FROM revoked WHERE token_type = 'access_token')::int AS revoked_access,
       (SELECT count(*) FROM revoked WHERE token_type = 'refresh_token')::int AS revoked_refresh,
       false AS presented_revoked, NULL AS outbox_id, NULL AS outbox_token_type, NULL AS outbox_level
  FROM event e`;

/** A CDR arrangement (the caller's consent) locked before it is revoked. */
export const LOCK_CONSENT_SQL = `SELECT 1 FROM consents WHERE tenant = $1 AND consent_id = $2 AND client_id = $3 AND revoked_at IS NULL FOR UPDATE`;

/**
 * CDR arrangement revocation (docs/api.md §2, `cdr`): the consent and every token under it, with
 * the refresh tokens its access tokens came from (RELATED_CONSENT includes RELATED_TOKENS), with
 * its audit row, after LOCK_CONSENT_SQL ($7: whether it locked one). The consent must be the
 * caller's; its tokens are found by the consent index and revoked by primary key, again only
 * the caller's.
 */
export const REVOKE_CONSENT_SQL = `
WITH consent AS (
  SELECT consent_id, client_id FROM consents WHERE tenant = $1 AND consent_id = $2
), owned AS (
  SELECT consent_id FROM consent WHERE client_id = $3
), consent_tokens AS MATERIALIZED (
  SELECT t.token_hash, t.token_type, t.parent_hash, t.family_version, t.revoked_at IS NULL AS live
    FROM owned o JOIN tokens t ON t.tenant = $1 AND t.consent_id = o.consent_id WHERE t.client_id = $3
), unlocked AS (
  -- The arrangement exists now but did not when it was to be locked (created in between): run again.
  SELECT 1 FROM owned o JOIN consents k ON k.tenant = $1 AND k.consent_id = o.consent_id WHERE k.revoked_at IS NULL AND NOT $7::boolean
), members AS (
  SELECT token_hash, family_version, live FROM consent_tokens
  UNION
  SELECT p.token_hash, p.family_version, p.revoked_at IS NULL FROM consent_tokens t JOIN tokens p ON p.tenant = $1 AND p.token_hash = t.parent_hash
   WHERE t.token_type = 'access_token' AND p.client_id = $3
), victims AS (
  SELECT t.token_hash, t.family_version <> m.family_version AS changed
    FROM members m JOIN tokens t ON t.tenant = $1 AND t.token_hash = m.token_hash
   WHERE m.live
   ORDER BY t.token_hash FOR UPDATE OF t
), revoked AS (
  UPDATE tokens t SET revoked_at = now() FROM victims v
   WHERE t.token_hash = v.token_hash AND t.tenant = $1 AND t.revoked_at IS NULL
     AND revgw_family_unchanged((SELECT bool_or(changed) FROM victims) OR EXISTS (SELECT 1 FROM unlocked))
  RETURNING t.token_hash, t.token_type, t.grant_id, t.subject
), marked AS (
  UPDATE consents k SET revoked_at = now() FROM owned o
   WHERE k.tenant = $1 AND k.consent_id = o.consent_id AND k.revoked_at IS NULL AND (SELECT count(*) FROM revoked) >= 0
     AND revgw_family_unchanged(EXISTS (SELECT 1 FROM unlocked))
  RETURNING 1
), event AS (
  INSERT INTO revocation_events (interaction_id, tenant, client_id, profile, token_type, level, revoked, outcome, psu_ip)
  SELECT $4, $1, $3, $5, NULL, 'RELATED_CONSENT', (SELECT count(*) FROM revoked),
         CASE WHEN NOT EXISTS (SELECT 1 FROM consent) THEN 'unknown'
              WHEN NOT EXISTS (SELECT 1 FROM owned) THEN 'foreign'
              ELSE 'revoked' END,
         $6
   WHERE (SELECT count(*) FROM marked) >= 0
  RETURNING outcome
)${eventCtes({
  revoked: `SELECT $1::text AS tenant, token_hash, token_type, grant_id, subject, $4::uuid::text AS txn, 0 AS ord, NULL::text AS jwt_iss, NULL::text AS jwt_jti FROM revoked`,
  tenants: 'ARRAY[$1::text]',
  initiator: 'user',
})}
${COUNTED_ROW}`;

/**
 * The tokens a bulk revocation matches: every criterion given ($2 subject, $3 client_id,
 * $4 consent_id), the absent ones NULL; with none given, nothing (the API refuses that first,
 * docs/api.md §9; this keeps a caller that forgets from revoking a whole tenant). Each column has
 * its own (tenant, column) index; a custom plan folds the absent criteria away and uses the
 * indexes of the given ones.
 */
const BULK_MATCH = `tenant = $1 AND num_nonnulls($2::text, $3::text, $4::text) > 0 AND ($2::text IS NULL OR subject = $2) AND ($3::text IS NULL OR client_id = $3) AND ($4::text IS NULL OR consent_id = $4)`;

/** A consent withdrawn alone, locked first. */
export const LOCK_BULK_CONSENT_SQL = `SELECT 1 FROM consents WHERE tenant = $1 AND consent_id = $2 AND revoked_at IS NULL FOR UPDATE`;

/** Every live token the bulk revocation will revoke, locked in hash order before its statement. */
export const LOCK_BULK_TOKENS_SQL = `SELECT 1 FROM tokens WHERE ${BULK_MATCH} AND revoked_at IS NULL ORDER BY token_hash FOR UPDATE`;

/**
 * The bulk revocation (docs/api.md §9): the matched tokens and one audit event (profile `admin`,
 * $6 the interaction id, $3 the client if one was named). With the consent as the only criterion
 * ($5) it is RELATED_CONSENT: also the refresh tokens its access tokens came from, and the
 * consent itself; $7 says whether LOCK_BULK_CONSENT_SQL locked it.
 */
export const REVOKE_BULK_SQL = `
WITH matched AS MATERIALIZED (
  SELECT token_hash, token_type, parent_hash, family_version, revoked_at IS NULL AS live FROM tokens WHERE ${BULK_MATCH}
), members AS (
  SELECT token_hash, family_version, live FROM matched
  UNION
  SELECT p.token_hash, p.family_version, p.revoked_at IS NULL FROM matched m JOIN tokens p ON p.tenant = $1 AND p.token_hash = m.parent_hash
   WHERE $5::boolean AND m.token_type = 'access_token'
), victims AS (
  SELECT t.token_hash, t.family_version <> m.family_version AS changed FROM members m JOIN tokens t ON t.tenant = $1 AND t.token_hash = m.token_hash
   WHERE m.live
   ORDER BY t.token_hash FOR UPDATE OF t
), unlocked AS (
  -- The consent exists now but did not when it was to be locked (created in between).
  SELECT 1 FROM consents WHERE $5::boolean AND tenant = $1 AND consent_id = $4 AND revoked_at IS NULL AND NOT $7::boolean
), revoked AS (
  UPDATE tokens t SET revoked_at = now() FROM victims v
   WHERE t.tenant = $1 AND t.token_hash = v.token_hash AND t.revoked_at IS NULL
     AND revgw_family_unchanged((SELECT bool_or(changed) FROM victims) OR EXISTS (SELECT 1 FROM unlocked))
  RETURNING t.token_hash, t.token_type, t.grant_id, t.subject
), consent AS (
  UPDATE consents SET revoked_at = now()
   WHERE $5::boolean AND tenant = $1 AND consent_id = $4 AND revoked_at IS NULL AND (SELECT count(*) FROM revoked) >= 0
     AND revgw_family_unchanged(EXISTS (SELECT 1 FROM unlocked))
  RETURNING 1
), event AS (
  INSERT INTO revocation_events (interaction_id, tenant, client_id, profile, revoked, outcome)
  SELECT $6::uuid, $1, $3, 'admin', (SELECT count(*) FROM revoked), 'revoked'
   WHERE (SELECT count(*) FROM consent) >= 0
  RETURNING outcome
)${eventCtes({
  revoked: `SELECT $1::text AS tenant, token_hash, token_type, grant_id, subject, $6::uuid::text AS txn, 0 AS ord, NULL::text AS jwt_iss, NULL::text AS jwt_jti FROM revoked`,
  tenants: 'ARRAY[$1::text]',
  initiator: 'admin',
  bySubject: { when: '$2::text IS NOT NULL AND $3::text IS NULL AND $4::text IS NULL', subject: '$2', txn: '$6::uuid::text' },
  bundle: { txn: '$6::uuid::text' },
})}
${COUNTED_ROW}`;
