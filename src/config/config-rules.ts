import { readSigningJwk, readVerificationJwk } from '../signing/signing-jwk';
import type { Feature } from './variable-kinds';
import type { Name, Settings } from './variables';

/** DATABASE_LOCK_TIMEOUT_MS, or its default below the statement timeout. */
export const lockTimeoutMs = (s: Pick<Settings, 'DATABASE_LOCK_TIMEOUT_MS' | 'DATABASE_STATEMENT_TIMEOUT_MS'>) =>
  s.DATABASE_LOCK_TIMEOUT_MS ?? Math.min(2000, Math.floor(s.DATABASE_STATEMENT_TIMEOUT_MS / 2));

/** A rule across variables; a rule of a switched feature is checked only when the feature is on. */
export interface Rule {
  readonly feature: Feature;
  /** What must hold, in words (docs/configuration.md). */
  readonly says: string;
  /**
   * `valid`: only when nothing has been reported so far (its variables may be unchecked
   * otherwise). `unreported`: unless one of `names` has been reported already.
   */
  readonly checkedWhen: 'valid' | 'unreported';
  readonly names: readonly Name[];
  /** The problem, after `Invalid configuration: `; undefined when the rule holds. */
  readonly problem: (s: Settings) => string | undefined;
}

/**
 * In the order they are checked: those of the features that are always on after every variable
 * of those features, those of a switched feature after its variables. The chart checks the same
 * rules when it renders (helm/fapi-revocation-gateway/templates/_helpers.tpl); test/helm proves
 * the two agree.
 */
export const RULES: readonly Rule[] = [
  {
    feature: 'server',
    says: '`MANAGEMENT_PORT` differs from `PORT` (unless both are `0`, two ephemeral ports).',
    checkedWhen: 'valid',
    names: ['PORT', 'MANAGEMENT_PORT'],
    problem: (s) => (s.PORT === s.MANAGEMENT_PORT && s.PORT !== 0 ? `MANAGEMENT_PORT must differ from PORT (both ${s.PORT})` : undefined),
  },
  {
    feature: 'tls',
    says: '`TLS_CERT_FILE` and `TLS_KEY_FILE` are set together, or neither is.',
    checkedWhen: 'valid',
    names: ['TLS_CERT_FILE', 'TLS_KEY_FILE'],
    problem: (s) =>
      !s.TLS_CERT_FILE !== !s.TLS_KEY_FILE ? `${s.TLS_CERT_FILE ? 'TLS_KEY_FILE' : 'TLS_CERT_FILE'} must be set together with the other` : undefined,
  },
  {
    feature: 'database',
    says: '`DATABASE_LOCK_TIMEOUT_MS` (as set, or its default) is below `DATABASE_STATEMENT_TIMEOUT_MS`.',
    checkedWhen: 'valid',
    names: ['DATABASE_LOCK_TIMEOUT_MS', 'DATABASE_STATEMENT_TIMEOUT_MS'],
    problem: (s) =>
      lockTimeoutMs(s) >= s.DATABASE_STATEMENT_TIMEOUT_MS
        ? `DATABASE_LOCK_TIMEOUT_MS must be below DATABASE_STATEMENT_TIMEOUT_MS (${s.DATABASE_STATEMENT_TIMEOUT_MS})`
        : undefined,
  },
  {
    feature: 'signing',
    says: '`SIGNING_KEY_PREVIOUS` is set only together with `SIGNING_KEY` (a generated key is never rotated this way).',
    checkedWhen: 'valid',
    names: ['SIGNING_KEY', 'SIGNING_KEY_PREVIOUS'],
    problem: (s) =>
      s.SIGNING_KEY_PREVIOUS && !s.SIGNING_KEY ? 'SIGNING_KEY_PREVIOUS needs SIGNING_KEY: the previous key is published beside the one configured' : undefined,
  },
  {
    feature: 'signing',
    says: '`SIGNING_KEY` and `SIGNING_KEY_PREVIOUS` have different `kid`s, so that a verifier can tell them apart.',
    checkedWhen: 'valid',
    names: ['SIGNING_KEY', 'SIGNING_KEY_PREVIOUS'],
    problem: (s) =>
      s.SIGNING_KEY && s.SIGNING_KEY_PREVIOUS && readSigningJwk(s.SIGNING_KEY).kid === readVerificationJwk(s.SIGNING_KEY_PREVIOUS).kid
        ? 'SIGNING_KEY and SIGNING_KEY_PREVIOUS have the same kid: a rotation needs a new key with a kid of its own'
        : undefined,
  },
  {
    feature: 'upstream',
    says: '`TOKEN_ENCRYPTION_KEY` is set (it is required with an upstream).',
    checkedWhen: 'unreported',
    names: ['TOKEN_ENCRYPTION_KEY'],
    problem: (s) => (s.TOKEN_ENCRYPTION_KEY ? undefined : 'TOKEN_ENCRYPTION_KEY is required when UPSTREAM_REVOCATION_URL is set (32 random bytes in base64)'),
  },
  {
    // docs/api.md §6: the gateway revokes upstream "with its own credentials"; without a secret it
    // is a public client there (client_id in the body), but it always says who it is.
    feature: 'upstream',
    says: '`UPSTREAM_CLIENT_ID` is set (it is required with an upstream).',
    checkedWhen: 'unreported',
    names: ['UPSTREAM_CLIENT_ID'],
    problem: (s) =>
      s.UPSTREAM_CLIENT_ID ? undefined : "UPSTREAM_CLIENT_ID is required when UPSTREAM_REVOCATION_URL is set (the gateway's client at the upstream)",
  },
  {
    // docs/api.md §1: in-flight requests finish on SIGTERM, and with an upstream one may wait its timeout.
    feature: 'upstream',
    says: '`SHUTDOWN_GRACE_MS` exceeds `UPSTREAM_TIMEOUT_MS`, so that a revocation in flight can finish at shutdown.',
    checkedWhen: 'valid',
    names: ['SHUTDOWN_GRACE_MS', 'UPSTREAM_TIMEOUT_MS'],
    problem: (s) =>
      s.SHUTDOWN_GRACE_MS <= s.UPSTREAM_TIMEOUT_MS
        ? `SHUTDOWN_GRACE_MS must exceed UPSTREAM_TIMEOUT_MS (${s.UPSTREAM_TIMEOUT_MS}), or in-flight revocations are cut at shutdown`
        : undefined,
  },
  {
    // docs/api.md §11.4: the overlay introspects "with the gateway's UPSTREAM_CLIENT_ID / UPSTREAM_CLIENT_SECRET as HTTP Basic".
    feature: 'introspection-overlay',
    says: '`UPSTREAM_CLIENT_ID` and `UPSTREAM_CLIENT_SECRET` are set (the overlay authenticates with HTTP Basic).',
    checkedWhen: 'unreported',
    names: ['UPSTREAM_CLIENT_ID', 'UPSTREAM_CLIENT_SECRET'],
    problem: (s) =>
      s.UPSTREAM_CLIENT_ID && s.UPSTREAM_CLIENT_SECRET
        ? undefined
        : 'UPSTREAM_CLIENT_ID and UPSTREAM_CLIENT_SECRET are required when UPSTREAM_INTROSPECTION_URL is set (the gateway authenticates there with HTTP Basic)',
  },
  {
    // The overlay uses the upstream's timeout and breaker, which are checked on their own only with UPSTREAM_REVOCATION_URL.
    feature: 'introspection-overlay',
    says: '`UPSTREAM_TIMEOUT_MS` (50–60000), `UPSTREAM_BREAKER_FAILURES` (1–1000) and `UPSTREAM_BREAKER_RESET_MS` (100–3600000) are valid: the overlay uses them too.',
    checkedWhen: 'unreported',
    names: ['UPSTREAM_TIMEOUT_MS', 'UPSTREAM_BREAKER_FAILURES', 'UPSTREAM_BREAKER_RESET_MS'],
    problem: (s) => {
      const bad = (
        [
          ['UPSTREAM_TIMEOUT_MS', s.UPSTREAM_TIMEOUT_MS, 50, 60000],
          ['UPSTREAM_BREAKER_FAILURES', s.UPSTREAM_BREAKER_FAILURES, 1, 1000],
          ['UPSTREAM_BREAKER_RESET_MS', s.UPSTREAM_BREAKER_RESET_MS, 100, 3_600_000],
        ] as const
      ).filter(([, value, min, max]) => !Number.isInteger(value) || value < min || value > max);
      return bad.length
        ? `${bad.map(([name, , min, max]) => `${name} must be an integer from ${min} to ${max}`).join('; ')} (UPSTREAM_INTROSPECTION_URL uses it)`
        : undefined;
    },
  },
];
