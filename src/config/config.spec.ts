import { ConfigError, loadConfig } from './config';
import { NAMES, VARIABLES } from './variables';

function problemsOf(env: NodeJS.ProcessEnv): string[] {
  try {
    loadConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).message).toBe((error as ConfigError).problems.join('\n'));
    return (error as ConfigError).problems;
  }
  throw new Error('expected a ConfigError');
}

describe('loadConfig', () => {
  it('applies the defaults to an empty environment', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      port: 8080,
      managementPort: 9464,
      host: '0.0.0.0',
      databaseUrl: undefined,
      dataDir: './data',
      migrationsRun: false,
      database: { poolSize: 10, connectTimeoutMs: 2000, statementTimeoutMs: 5000, lockTimeoutMs: 2000 },
      issuer: 'http://localhost:8080',
      adminApiToken: undefined,
      defaultLevel: undefined,
      shutdownGraceMs: 10000,
      requestTimeoutMs: 30000,
      logLevel: 'info',
    });
    expect([...config.profiles].sort()).toEqual(['cdr', 'fapi', 'idv1', 'introspect', 'oam', 'rfc7009']);
  });

  it('treats empty strings as unset', () => {
    expect(loadConfig({ PORT: '', ISSUER: '', PROFILES: '' })).toMatchObject({ port: 8080, issuer: 'http://localhost:8080' });
  });

  it('parses numbers', () => {
    const config = loadConfig({ PORT: '3000', MANAGEMENT_PORT: '0', DATABASE_POOL_SIZE: '25', SHUTDOWN_GRACE_MS: '500' });
    expect(config.port).toBe(3000);
    expect(config.managementPort).toBe(0);
    expect(config.database.poolSize).toBe(25);
    expect(config.shutdownGraceMs).toBe(500);
  });

  it.each([
    ['true', true],
    ['1', true],
    ['false', false],
    ['0', false],
  ])('parses MIGRATIONS_RUN=%s as %s', (value, expected) => {
    expect(loadConfig({ MIGRATIONS_RUN: value }).migrationsRun).toBe(expected);
  });

  it('strips trailing slashes from ISSUER', () => {
    expect(loadConfig({ ISSUER: 'https://issuer.example/' }).issuer).toBe('https://issuer.example');
    expect(loadConfig({ ISSUER: 'https://issuer.example/tenant//' }).issuer).toBe('https://issuer.example/tenant');
  });

  it('reads profiles as a trimmed comma list, and the other optional values', () => {
    const config = loadConfig({
      PROFILES: ' rfc7009 , cdr ',
      REVOCATION_DEFAULT_LEVEL: 'RELATED_CONSENT',
      DATABASE_URL: 'postgresql://u:p@db/x',
      ADMIN_API_TOKEN: 'a'.repeat(16),
    });
    expect([...config.profiles].sort()).toEqual(['cdr', 'rfc7009']);
    expect(config.defaultLevel).toBe('RELATED_CONSENT');
    expect(config.databaseUrl).toBe('postgresql://u:p@db/x');
    expect(config.adminApiToken).toBe('a'.repeat(16));
  });

  it.each([
    ['PORT', 'abc'],
    ['PORT', '70000'],
    ['PORT', '80.5'],
    ['PORT', '   '],
    ['MIGRATIONS_RUN', 'yes'],
    ['PROFILES', 'rfc7009,bogus'],
    ['REVOCATION_DEFAULT_LEVEL', 'ALL'],
    ['ADMIN_API_TOKEN', 'short'],
    ['DATABASE_URL', 'mysql://x'],
    ['ISSUER', 'ftp://issuer.example'],
    ['LOG_LEVEL', 'verbose'],
  ])('names %s=%s in exactly one problem line', (name, value) => {
    const problems = problemsOf({ [name]: value });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toContain(name);
  });

  it('shows the bad value of an ordinary variable', () => {
    expect(problemsOf({ PORT: '70000' })[0]).toContain('"70000"');
  });

  it('never echoes the value of DATABASE_URL or ADMIN_API_TOKEN', () => {
    const url = 'mysql://admin:hunter2secret@db.internal/x';
    const token = 'tooShortTok';
    const problems = problemsOf({ DATABASE_URL: url, ADMIN_API_TOKEN: token });
    expect(problems).toHaveLength(2);
    const message = problems.join('\n');
    expect(message).not.toContain(url);
    expect(message).not.toContain('hunter2secret');
    expect(message).not.toContain(token);
  });

  it('reports several bad variables with one line each', () => {
    const problems = problemsOf({ PORT: 'abc', PROFILES: 'bogus', REVOCATION_DEFAULT_LEVEL: 'ALL', HOST: '127.0.0.1' });
    expect(problems).toHaveLength(3);
    for (const name of ['PORT', 'PROFILES', 'REVOCATION_DEFAULT_LEVEL']) {
      expect(problems.filter((line) => line.includes(name))).toHaveLength(1);
    }
  });

  it.each([
    ['DATABASE_URL', { DATABASE_URL: 'postgres://u:pw@host:notaport/db' }],
    ['REDIS_URL', { REDIS_URL: 'redis://:secret@host:port' }],
    ['HOST', { HOST: '999.1.1.1' }],
    ['HOST', { HOST: 'db.internal' }],
    ['ADMIN_API_TOKEN', { ADMIN_API_TOKEN: ' '.repeat(17) }],
    ['ADMIN_API_TOKEN', { ADMIN_API_TOKEN: 'sixteen chars with space' }],
    ['MANAGEMENT_PORT', { PORT: '9000', MANAGEMENT_PORT: '9000' }],
    ['DATABASE_LOCK_TIMEOUT_MS', { DATABASE_STATEMENT_TIMEOUT_MS: '1000', DATABASE_LOCK_TIMEOUT_MS: '1000' }],
  ])('fails at start on a bad %s, naming it, without echoing secrets', (name, env) => {
    const problems = problemsOf(env);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toContain(name);
    expect(problems[0]).not.toMatch(/pw|secret|with space/);
  });

  it('takes the lock timeout below the statement timeout unless it is set', () => {
    expect(loadConfig({}).database.lockTimeoutMs).toBe(2000);
    expect(loadConfig({ DATABASE_STATEMENT_TIMEOUT_MS: '1000' }).database.lockTimeoutMs).toBe(500);
    expect(loadConfig({ DATABASE_STATEMENT_TIMEOUT_MS: '1000', DATABASE_LOCK_TIMEOUT_MS: '900' }).database.lockTimeoutMs).toBe(900);
  });

  it('accepts IPv6 and localhost bind addresses, and two ephemeral ports', () => {
    expect(loadConfig({ HOST: '::' }).host).toBe('::');
    expect(loadConfig({ HOST: 'localhost', PORT: '0', MANAGEMENT_PORT: '0' }).host).toBe('localhost');
  });

  it.each(NAMES.filter((name) => 'sensitive' in VARIABLES[name]))('never echoes a bad %s, the table marking it sensitive', (name) => {
    const bad = name.endsWith('_URL') ? 'ftp://user:hunter2secret@host/x' : 'hunter2secret\t';
    const upstream = {
      UPSTREAM_REVOCATION_URL: 'https://as.bank.internal/revoke',
      UPSTREAM_CLIENT_ID: 'gw',
      TOKEN_ENCRYPTION_KEY: Buffer.alloc(32, 7).toString('base64'),
    };
    const problems = problemsOf({ ...(VARIABLES[name].feature === 'upstream' ? upstream : {}), [name]: bad });
    expect(problems).toEqual([expect.stringContaining(name)]);
    expect(problems[0]).not.toContain('hunter2secret');
  });

  it('ignores variables it does not know', () => {
    expect(loadConfig({ UNRELATED: 'x', NODE_ENV: 'production' }).port).toBe(8080);
  });

  describe('upstream introspection overlay (docs/api.md §11.4)', () => {
    const OVERLAY = { UPSTREAM_INTROSPECTION_URL: 'https://as.bank.internal/oauth2/introspect', UPSTREAM_CLIENT_ID: 'gw', UPSTREAM_CLIENT_SECRET: 'secret' };

    it('is off without UPSTREAM_INTROSPECTION_URL; on, it reads the upstream credentials, timeout, breaker and its cache time', () => {
      expect(loadConfig({ INTROSPECTION_CACHE_MS: 'forever' }).introspectionOverlay).toBeUndefined();
      expect(loadConfig(OVERLAY).introspectionOverlay).toEqual({
        url: OVERLAY.UPSTREAM_INTROSPECTION_URL,
        clientId: 'gw',
        clientSecret: 'secret',
        timeoutMs: 2000,
        cacheMs: 30000,
        breaker: { failures: 5, resetMs: 10000 },
      });
      expect(loadConfig(OVERLAY).upstream).toBeUndefined();
    });

    it('needs the credentials, and checks the timeout and breaker it uses', () => {
      expect(problemsOf({ UPSTREAM_INTROSPECTION_URL: OVERLAY.UPSTREAM_INTROSPECTION_URL, UPSTREAM_CLIENT_ID: 'gw' })).toEqual([
        expect.stringMatching(/^Invalid configuration: UPSTREAM_CLIENT_ID and UPSTREAM_CLIENT_SECRET are required/),
      ]);
      expect(problemsOf({ ...OVERLAY, UPSTREAM_TIMEOUT_MS: 'soon' })).toEqual([
        expect.stringMatching(/UPSTREAM_TIMEOUT_MS must be an integer from 50 to 60000/),
      ]);
      expect(problemsOf({ ...OVERLAY, INTROSPECTION_CACHE_MS: '-1' })).toEqual([expect.stringMatching(/^Invalid configuration: INTROSPECTION_CACHE_MS/)]);
      expect(problemsOf({ ...OVERLAY, UPSTREAM_INTROSPECTION_URL: 'https://user:pw@as.example/introspect' })).toEqual([
        expect.stringMatching(/UPSTREAM_INTROSPECTION_URL/),
      ]);
    });
  });

  describe('upstream propagation (docs/api.md §6)', () => {
    const KEY = Buffer.alloc(32, 7).toString('base64');
    const URL_ONLY = { UPSTREAM_REVOCATION_URL: 'https://as.bank.internal/oauth2/revoke', UPSTREAM_CLIENT_ID: 'gw' };

    it('is off without UPSTREAM_REVOCATION_URL, whatever else is set', () => {
      expect(loadConfig({ UPSTREAM_TIMEOUT_MS: 'soon', UPSTREAM_DIALECT: 'smoke-signals' }).upstream).toBeUndefined();
    });

    it('checks TOKEN_ENCRYPTION_KEY whether or not there is an upstream: it also seals stream credentials (docs/api.md §12.2)', () => {
      expect(problemsOf({ TOKEN_ENCRYPTION_KEY: 'not-a-key' })).toEqual([expect.stringMatching(/^Invalid configuration: TOKEN_ENCRYPTION_KEY must be/)]);
      expect(loadConfig({ TOKEN_ENCRYPTION_KEY: KEY }).encryption).toEqual({ key: Buffer.alloc(32, 7), previous: undefined });
      expect(loadConfig({}).encryption).toBeUndefined();
    });

    it('reads the defaults and the key', () => {
      expect(loadConfig({ ...URL_ONLY, TOKEN_ENCRYPTION_KEY: KEY, UPSTREAM_CLIENT_SECRET: 's e:c' }).upstream).toEqual({
        url: URL_ONLY.UPSTREAM_REVOCATION_URL,
        dialect: 'rfc7009',
        clientId: 'gw',
        clientSecret: 's e:c',
        timeoutMs: 2000,
        breaker: { failures: 5, resetMs: 10000 },
        encryptionKey: Buffer.alloc(32, 7),
        maxAttempts: 300,
      });
      // URL-safe base64 without padding is the same 32 bytes.
      expect(loadConfig({ ...URL_ONLY, TOKEN_ENCRYPTION_KEY: Buffer.alloc(32, 0xfb).toString('base64url') }).upstream?.encryptionKey).toEqual(
        Buffer.alloc(32, 0xfb),
      );
    });

    it('requires TOKEN_ENCRYPTION_KEY and UPSTREAM_CLIENT_ID once upstream is set', () => {
      expect(problemsOf(URL_ONLY)).toEqual([expect.stringMatching(/^Invalid configuration: TOKEN_ENCRYPTION_KEY is required/)]);
      expect(problemsOf({ UPSTREAM_REVOCATION_URL: URL_ONLY.UPSTREAM_REVOCATION_URL, TOKEN_ENCRYPTION_KEY: KEY })).toEqual([
        expect.stringMatching(/^Invalid configuration: UPSTREAM_CLIENT_ID is required/),
      ]);
    });

    it('names a missing key even when the previous one is bad too', () => {
      expect(problemsOf({ ...URL_ONLY, TOKEN_ENCRYPTION_KEY_PREVIOUS: 'short' })).toEqual([
        expect.stringMatching(/^Invalid configuration: TOKEN_ENCRYPTION_KEY_PREVIOUS must be/),
        expect.stringMatching(/^Invalid configuration: TOKEN_ENCRYPTION_KEY is required/),
      ]);
    });

    it('wants a shutdown grace longer than the upstream timeout, so in-flight revocations can finish', () => {
      expect(problemsOf({ ...URL_ONLY, TOKEN_ENCRYPTION_KEY: KEY, UPSTREAM_TIMEOUT_MS: '5000', SHUTDOWN_GRACE_MS: '1000' })).toEqual([
        expect.stringMatching(/SHUTDOWN_GRACE_MS must exceed UPSTREAM_TIMEOUT_MS/),
      ]);
    });

    it('reads a previous key for a rotation, and checks it like the key', () => {
      const previous = Buffer.alloc(32, 9).toString('base64');
      expect(loadConfig({ ...URL_ONLY, TOKEN_ENCRYPTION_KEY: KEY, TOKEN_ENCRYPTION_KEY_PREVIOUS: previous }).upstream?.previousEncryptionKey).toEqual(
        Buffer.alloc(32, 9),
      );
      expect(problemsOf({ ...URL_ONLY, TOKEN_ENCRYPTION_KEY: KEY, TOKEN_ENCRYPTION_KEY_PREVIOUS: 'short' })).toEqual([
        expect.stringContaining('TOKEN_ENCRYPTION_KEY_PREVIOUS'),
      ]);
    });

    it.each([
      ['TOKEN_ENCRYPTION_KEY', { TOKEN_ENCRYPTION_KEY: Buffer.alloc(16, 1).toString('base64') }],
      ['TOKEN_ENCRYPTION_KEY', { TOKEN_ENCRYPTION_KEY: 'correct horse battery staple correct horse b' }],
      ['UPSTREAM_REVOCATION_URL', { UPSTREAM_REVOCATION_URL: 'https://gw:secret@as.bank.internal/revoke', TOKEN_ENCRYPTION_KEY: KEY }],
      ['UPSTREAM_REVOCATION_URL', { UPSTREAM_REVOCATION_URL: 'ftp://as.bank.internal/revoke', TOKEN_ENCRYPTION_KEY: KEY }],
      ['UPSTREAM_DIALECT', { UPSTREAM_DIALECT: 'keycloak', TOKEN_ENCRYPTION_KEY: KEY }],
      ['UPSTREAM_TIMEOUT_MS', { UPSTREAM_TIMEOUT_MS: '2s', TOKEN_ENCRYPTION_KEY: KEY }],
      ['UPSTREAM_BREAKER_FAILURES', { UPSTREAM_BREAKER_FAILURES: '0', TOKEN_ENCRYPTION_KEY: KEY }],
      ['UPSTREAM_CLIENT_ID', { UPSTREAM_CLIENT_ID: 'with:colon', TOKEN_ENCRYPTION_KEY: KEY }],
      ['UPSTREAM_CLIENT_ID', { UPSTREAM_CLIENT_ID: '', UPSTREAM_CLIENT_SECRET: 'secret-without-id', TOKEN_ENCRYPTION_KEY: KEY }],
    ])('fails at start on a bad %s, naming it, without echoing secrets', (name, env) => {
      const problems = problemsOf({ ...URL_ONLY, ...env });
      expect(problems).toHaveLength(1);
      expect(problems[0]).toContain(name);
      expect(problems[0]).not.toMatch(/secret|horse|AQEB/);
    });
  });
});
