import { generateKeyPairSync, type JsonWebKey } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { loadConfig } from '../../src/config/config';
import { openDatabase } from '../../src/database/database';
import { freshDatabase, json, startTestGateway, type TestGateway } from '../support/gateway';
import { captureLogs } from '../support/log-capture';
import { fetchJwks, publishedKeyFor } from '../support/signing-jwks';
import { verifyWithOpenSsl } from '../support/verify-jws';

const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k', 'oth'];
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[1-8][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i;

const privateJwk = (pair: { privateKey: { export(o: { format: 'jwk' }): JsonWebKey } }, extra: Record<string, string> = {}) => ({
  ...(pair.privateKey.export({ format: 'jwk' }) as Record<string, string>),
  ...extra,
});
const KEYS = {
  ES256: privateJwk(generateKeyPairSync('ec', { namedCurve: 'P-256' }), { kid: 'es256-key' }),
  PS256: privateJwk(generateKeyPairSync('rsa', { modulusLength: 2048 }), { kid: 'ps256-key', alg: 'PS256' }),
  RS256: privateJwk(generateKeyPairSync('rsa', { modulusLength: 3072 }), { kid: 'rs256-key', alg: 'RS256' }),
  EdDSA: privateJwk(generateKeyPairSync('ed25519')),
};

const headerOf = (jws: string) => JSON.parse(Buffer.from(jws.split('.')[0], 'base64url').toString('utf8'));
const payloadOf = (jws: string) => JSON.parse(Buffer.from(jws.split('.')[1], 'base64url').toString('utf8'));
/** The same JWS with another payload: its signature must no longer verify. */
const tampered = (jws: string) => {
  const [header, , signature] = jws.split('.');
  return `${header}.${Buffer.from(JSON.stringify({ active: false })).toString('base64url')}.${signature}`;
};

describe('the signing key (docs/api.md §13)', () => {
  describe('generated: no SIGNING_KEY', () => {
    let gw: TestGateway;
    beforeAll(async () => (gw = await startTestGateway()));
    afterAll(() => gw.stop());

    it('serves /jwks.json on the public port: one ES256 key, public members, kid, alg and use sig', async () => {
      const { response, keys } = await fetchJwks(gw.publicUrl);
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toMatch(/^application\/jwk-set\+json/);
      expect(response.headers.get('cache-control')).toBe('public, max-age=300');
      expect(response.headers.get('x-fapi-interaction-id')).toMatch(UUID);
      expect(keys).toEqual([{ kty: 'EC', crv: 'P-256', x: expect.any(String), y: expect.any(String), kid: gw.signingKeys.kid, alg: 'ES256', use: 'sig' }]);
      expect(gw.signingKeys.source).toBe('database');
    });

    it('echoes the caller’s interaction id, like every public answer (§3)', async () => {
      const id = '8f14e45f-ceea-467f-a0e6-7d1c3a5b9e21';
      const response = await fetch(`${gw.publicUrl}/jwks.json`, { headers: { 'x-fapi-interaction-id': id } });
      expect(response.headers.get('x-fapi-interaction-id')).toBe(id);
    });

    it('signs a compact JWS whose header is {alg, kid, typ}, which OpenSSL verifies with the published key', async () => {
      const jws = await gw.signingKeys.sign({ active: true, iss: 'http://localhost:8080' }, 'token-introspection+jwt');
      expect(headerOf(jws)).toEqual({ alg: 'ES256', kid: gw.signingKeys.kid, typ: 'token-introspection+jwt' });
      expect(payloadOf(jws)).toEqual({ active: true, iss: 'http://localhost:8080' });
      const key = await publishedKeyFor(gw.publicUrl, jws);
      expect(await verifyWithOpenSsl(jws, key)).toBe(true);
      expect(await verifyWithOpenSsl(tampered(jws), key)).toBe(false);
    });

    it('keeps the key in signing_keys', async () => {
      expect(await gw.database.dataSource.query(`SELECT name, kid, alg FROM signing_keys`)).toEqual([
        { name: 'generated', kid: gw.signingKeys.kid, alg: 'ES256' },
      ]);
    });

    it('answers HEAD like GET, without a body', async () => {
      const response = await fetch(`${gw.publicUrl}/jwks.json`, { method: 'HEAD' });
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toMatch(/^application\/jwk-set\+json/);
      expect(response.headers.get('cache-control')).toBe('public, max-age=300');
      expect(await response.text()).toBe('');
    });

    it('answers 405 to POST, and is not on the management port', async () => {
      const response = await fetch(`${gw.publicUrl}/jwks.json`, { method: 'POST' });
      expect(response.status).toBe(405);
      expect(response.headers.get('allow')).toBe('GET, HEAD');
      expect((await fetch(`${gw.managementUrl}/jwks.json`)).status).toBe(404);
    });

    it('is named by the metadata as jwks_uri', async () => {
      const metadata = await json(await fetch(`${gw.publicUrl}/.well-known/oauth-authorization-server`));
      expect(metadata.jwks_uri).toBe('http://localhost:8080/jwks.json');
    });
  });

  describe.each(Object.entries(KEYS))('configured: SIGNING_KEY of %s', (alg, jwk) => {
    let gw: TestGateway;
    let logs: string[];
    beforeAll(async () => {
      const capture = captureLogs('trace');
      logs = capture.lines;
      gw = await startTestGateway({ SIGNING_KEY: JSON.stringify(jwk) }, capture.logger);
    });
    afterAll(() => gw.stop());

    it(`signs ${alg}, verifiable by OpenSSL with the key /jwks.json publishes`, async () => {
      expect(gw.signingKeys).toMatchObject({ alg, source: 'configured' });
      const jws = await gw.signingKeys.sign({ sub: 'psu-42', iat: 1_800_000_000 }, 'secevent+jwt');
      expect(headerOf(jws)).toEqual({ alg, kid: gw.signingKeys.kid, typ: 'secevent+jwt' });
      const key = await publishedKeyFor(gw.publicUrl, jws);
      expect(await verifyWithOpenSsl(jws, key)).toBe(true);
      expect(await verifyWithOpenSsl(tampered(jws), key)).toBe(false);
    });

    it('publishes the key alone, with its own kid (or its thumbprint), and no private member', async () => {
      const { keys } = await fetchJwks(gw.publicUrl);
      expect(keys).toHaveLength(1);
      expect(keys[0]).toMatchObject({ kty: jwk.kty, alg, use: 'sig', kid: jwk.kid ?? expect.stringMatching(/^[A-Za-z0-9_-]{43}$/) });
      for (const member of PRIVATE_MEMBERS) expect(keys[0]).not.toHaveProperty(member);
      // A configured key is never written to the database.
      expect(await gw.database.dataSource.query(`SELECT count(*)::int AS n FROM signing_keys`)).toEqual([{ n: 0 }]);
    });

    it('logs which key it signs with, never the key', () => {
      expect(logs.some((line) => line.includes('"signing key loaded"') && line.includes(gw.signingKeys.kid))).toBe(true);
      for (const member of PRIVATE_MEMBERS) if (jwk[member]) expect(logs.join('\n')).not.toContain(jwk[member]);
    });
  });

  describe('rotation: SIGNING_KEY_PREVIOUS', () => {
    let gw: TestGateway;
    beforeAll(async () => (gw = await startTestGateway({ SIGNING_KEY: JSON.stringify(KEYS.PS256), SIGNING_KEY_PREVIOUS: JSON.stringify(KEYS.ES256) })));
    afterAll(() => gw.stop());

    it('publishes the previous public key second, and signs with the current one only', async () => {
      const { keys } = await fetchJwks(gw.publicUrl);
      expect(keys.map((k) => [k.kid, k.alg, k.use])).toEqual([
        ['ps256-key', 'PS256', 'sig'],
        ['es256-key', 'ES256', 'sig'],
      ]);
      expect(keys[1]).toEqual({ kty: 'EC', crv: 'P-256', x: KEYS.ES256.x, y: KEYS.ES256.y, kid: 'es256-key', alg: 'ES256', use: 'sig' });
      for (const member of PRIVATE_MEMBERS) for (const key of keys) expect(key).not.toHaveProperty(member);
      expect(headerOf(await gw.signingKeys.sign({}, 'JWT')).kid).toBe('ps256-key');
    });
  });

  it('a generated key survives a restart on the same database', async () => {
    const fresh = await freshDatabase();
    const dataDir = fresh ? undefined : await mkdtemp(join(tmpdir(), 'revgw-signing-'));
    const env: Record<string, string> = fresh ? { DATABASE_URL: fresh.url, MIGRATIONS_RUN: 'true' } : { DATA_DIR: dataDir! };
    try {
      const first = await startTestGateway(env);
      const kid = first.signingKeys.kid;
      const jws = await first.signingKeys.sign({ n: 1 }, 'JWT');
      await first.stop();
      const second = await startTestGateway(env);
      try {
        expect(second.signingKeys.kid).toBe(kid);
        expect(await verifyWithOpenSsl(jws, await publishedKeyFor(second.publicUrl, jws))).toBe(true);
      } finally {
        await second.stop();
      }
    } finally {
      await fresh?.drop();
      if (dataDir) await rm(dataDir, { recursive: true, force: true });
    }
  }, 60_000);

  // The embedded database is one process's: replicas need a server.
  (process.env.DATABASE_URL ? it : it.skip)(
    'replicas starting at once on a fresh database converge on one key',
    async () => {
      const fresh = (await freshDatabase())!;
      try {
        const migrated = await openDatabase(loadConfig({ DATABASE_URL: fresh.url, MIGRATIONS_RUN: 'true' }), pino({ level: 'silent' }));
        await migrated.close();
        const replicas = await Promise.all([1, 2, 3, 4].map(() => startTestGateway({ DATABASE_URL: fresh.url })));
        try {
          expect(new Set(replicas.map((gw) => gw.signingKeys.kid)).size).toBe(1);
          const sets = await Promise.all(replicas.map(async (gw) => (await fetchJwks(gw.publicUrl)).keys));
          for (const keys of sets) expect(keys).toEqual(sets[0]);
          expect(await replicas[0].database.dataSource.query(`SELECT count(*)::int AS n FROM signing_keys`)).toEqual([{ n: 1 }]);
        } finally {
          await Promise.all(replicas.map((gw) => gw.stop()));
        }
      } finally {
        await fresh.drop();
      }
    },
    60_000,
  );
});
