import { generateKeyPairSync } from 'node:crypto';
import { CompactSign } from 'jose';
import type { Logger } from 'pino';
import type { DataSource } from 'typeorm';
import type { AppConfig } from '../config/config';
import { readSigningJwk, SigningKeyProblem, type PublicJwk, type SigningAlgorithm, type SigningKeyMaterial, type VerificationKey } from './signing-jwk';

export type { PublicJwk } from './signing-jwk';

/** The row of the generated key (migration 1795410000000). */
const GENERATED = 'generated';

/**
 * The gateway's signing key (docs/api.md §13): SIGNING_KEY when set, else the key kept in the
 * database, made (ES256) by the first replica to start. It signs introspection answers (RFC 9701)
 * and security event tokens, and publishes its public half, and SIGNING_KEY_PREVIOUS's, at
 * `/jwks.json`. The private half lives only in a KeyObject, which neither JSON nor a log line
 * can print.
 */
export class SigningKeys {
  /** The algorithm and key id of every signature. */
  readonly alg: SigningAlgorithm;
  readonly kid: string;
  private readonly encoder = new TextEncoder();

  private constructor(
    private readonly current: SigningKeyMaterial,
    private readonly previous: VerificationKey | undefined,
    /** `configured`: SIGNING_KEY; `database`: the key generated at the first start. */
    readonly source: 'configured' | 'database',
  ) {
    this.alg = current.alg;
    this.kid = current.kid;
  }

  /** Loaded once at start, after the database opened (and migrated). */
  static async load(config: AppConfig, dataSource: DataSource, logger: Logger): Promise<SigningKeys> {
    const keys = config.signing
      ? new SigningKeys(config.signing.key, config.signing.previous, 'configured')
      : new SigningKeys(await generatedKey(dataSource), undefined, 'database');
    logger.info({ kid: keys.kid, alg: keys.alg, source: keys.source, previous_kid: keys.previous?.kid }, 'signing key loaded');
    return keys;
  }

  /** A compact JWS (RFC 7515 §7.1) of `payload` as JSON, its protected header `{alg, kid, typ}`. */
  async sign(payload: Record<string, unknown>, typ: string): Promise<string> {
    return new CompactSign(this.encoder.encode(JSON.stringify(payload)))
      .setProtectedHeader({ alg: this.alg, kid: this.kid, typ })
      .sign(this.current.privateKey);
  }

  /** RFC 7517 §5: the current key, then the previous one; public members, `kid`, `alg` and `use` only. */
  jwks(): { keys: PublicJwk[] } {
    return { keys: [this.current.publicJwk, ...(this.previous ? [this.previous.publicJwk] : [])] };
  }
}

/**
 * The key of the 'generated' row, made now if there is none. Replicas starting at once on a fresh
 * database each try to insert their own; the primary key lets one insert win (the others wait for
 * it to commit, then insert nothing), and every replica reads back that one.
 */
async function generatedKey(dataSource: DataSource): Promise<SigningKeyMaterial> {
  const stored = await readGenerated(dataSource);
  if (stored) return stored;
  const made = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' });
  const key = readSigningJwk(made);
  await dataSource.query(`INSERT INTO signing_keys (name, kid, alg, private_jwk) VALUES ($1, $2, $3, $4) ON CONFLICT (name) DO NOTHING`, [
    GENERATED,
    key.kid,
    key.alg,
    JSON.stringify({ ...made, kid: key.kid, alg: key.alg }),
  ]);
  const winner = await readGenerated(dataSource);
  if (!winner) throw new Error('the generated signing key was neither inserted nor found');
  return winner;
}

async function readGenerated(dataSource: DataSource): Promise<SigningKeyMaterial | undefined> {
  const rows = (await dataSource.query(`SELECT private_jwk FROM signing_keys WHERE name = $1`, [GENERATED])) as Array<{ private_jwk: unknown }>;
  if (rows.length === 0) return undefined;
  try {
    return readSigningJwk(rows[0].private_jwk);
  } catch (error) {
    // The row's value is never repeated, only why it cannot be used.
    if (error instanceof SigningKeyProblem) throw new Error(`the signing key in signing_keys ${error.message}`, { cause: error });
    throw error;
  }
}
