#!/usr/bin/env node
// `npm run bench`: the revocation hot path under load, side by side with a node:http + pg baseline
// doing the same one-statement revocation (bench/baseline.cjs). Not a test: it prints numbers.
//
//   DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres npm run -s bench -- [--tokens 200000]
//     [--profile rfc7009|fapi] [--connections 50] [--duration 10] [--log-level info] [--keep]
//     [--cpu-prof <dir>] [--no-baseline] [--upstream]
//
// With DATABASE_URL (a server the user may CREATE DATABASE on) it creates a fresh database, seeds
// it in SQL (sha256() in PostgreSQL, so 10M tokens take a minute, not an hour), runs the gateway
// (dist/, as `npm start` does) and then the baseline on it, and drops it. Without DATABASE_URL
// the gateway runs on its embedded database, seeded through the admin API, and there is no
// baseline. Every request revokes a different registered token. The last line printed is one
// JSON object (other tools read it).
const { spawn } = require('node:child_process');
const { randomBytes, randomUUID } = require('node:crypto');
const autocannon = require('autocannon');
const { ROOT, ADMIN, log, freePort, waitFor, start, stop, peakRssMb, cpuMeter, sql, seedInSql, admin, printResult, main } = require('./support.cjs');

// `--scenario introspect|check|freshness`: the enforcement side (bench/enforcement.cjs);
// `--scenario events`: revocation events (bench/events.cjs).
const scenario = process.argv.includes('--scenario') ? process.argv[process.argv.indexOf('--scenario') + 1] : 'revoke';
if (scenario !== 'revoke') {
  require(scenario === 'events' ? './events.cjs' : './enforcement.cjs');
  return;
}
const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : fallback;
};
const options = {
  tokens: Number(arg('tokens', 200000)),
  profile: arg('profile', 'rfc7009'),
  connections: Number(arg('connections', 50)),
  duration: Number(arg('duration', 10)),
  logLevel: arg('log-level', 'info'),
  keep: process.argv.includes('--keep'),
  /** Only the gateway (the scale run: seeding N tokens once, not twice). */
  baseline: !process.argv.includes('--no-baseline'),
  /** Propagation on, to bench/fake-upstream.cjs (answers 200 at once) on this machine. */
  upstream: process.argv.includes('--upstream'),
  /** Writes the gateway's V8 CPU profile (.cpuprofile) into this directory. */
  cpuProf: arg('cpu-prof', undefined),
};
if (!['rfc7009', 'fapi'].includes(options.profile)) throw new Error('--profile is rfc7009 or fapi');
const SECRET = 'bench-secret-0123456789abcdef0123';

async function seedThroughAdmin(managementUrl, prefix, count) {
  for (let from = 0; from < count; from += 10000) {
    const tokens = Array.from({ length: Math.min(10000, count - from) }, (_, j) => ({
      token: `${prefix}.${from + j}`,
      token_type: 'access_token',
      client_id: 'bench',
      grant_id: `g${from + j}`,
      expires_at: '2030-01-01T00:00:00Z',
    }));
    await admin(managementUrl, 'POST', '/admin/tokens', { tokens });
  }
}

/** private_key_jwt: every request needs its own assertion (single-use jti); signed before the run. */
async function fapiClient(count, issuer) {
  const { generateKeyPair, exportJWK, SignJWT } = await import('jose');
  const { privateKey, publicKey } = await generateKeyPair('ES256');
  const jwk = { ...(await exportJWK(publicKey)), kid: 'bench', alg: 'ES256', use: 'sig' };
  const assertions = [];
  const now = Math.floor(Date.now() / 1000);
  for (let i = 0; i < count; i++) {
    assertions.push(
      await new SignJWT({})
        .setProtectedHeader({ alg: 'ES256', kid: 'bench' })
        .setIssuer('bench')
        .setSubject('bench')
        .setAudience(`${issuer}/token/revocation`)
        .setJti(randomUUID())
        .setIssuedAt(now)
        .setExpirationTime(now + 600)
        .sign(privateKey),
    );
  }
  return { jwk, assertions };
}

function load(url, path, body, headers) {
  return autocannon({
    url,
    connections: options.connections,
    duration: options.duration,
    requests: [{ method: 'POST', path, setupRequest: (request) => ({ ...request, headers: headers(), body: body() }) }],
  });
}

main(async () => {
  const server = process.env.DATABASE_URL;
  const run = Date.now().toString(36);
  let databaseUrl;
  if (server) {
    const name = `revgw_bench_${run}`;
    await sql(server, `CREATE DATABASE ${name}`);
    const url = new URL(server);
    url.pathname = `/${name}`;
    databaseUrl = url.toString();
  }
  const [port, managementPort] = [await freePort(), await freePort()];
  const issuer = `http://127.0.0.1:${port}`;
  const managementUrl = `http://127.0.0.1:${managementPort}`;
  let upstream;
  const upstreamEnv = {};
  if (options.upstream) {
    const upstreamPort = await freePort();
    upstream = spawn(process.execPath, ['bench/fake-upstream.cjs', '--port', String(upstreamPort)], { cwd: ROOT, stdio: ['ignore', 'pipe', 'ignore'] });
    Object.assign(upstreamEnv, {
      UPSTREAM_REVOCATION_URL: `http://127.0.0.1:${upstreamPort}/revoke`,
      UPSTREAM_CLIENT_ID: 'gateway',
      UPSTREAM_CLIENT_SECRET: 'gateway-secret',
      TOKEN_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
    });
  }
  const gateway = start(
    'dist/src/main.js',
    {
      ...upstreamEnv,
      ...(databaseUrl ? { DATABASE_URL: databaseUrl, MIGRATIONS_RUN: 'true' } : { DATA_DIR: 'memory://' }),
      PORT: String(port),
      MANAGEMENT_PORT: String(managementPort),
      HOST: '127.0.0.1',
      ISSUER: issuer,
      ADMIN_API_TOKEN: ADMIN,
      // One address and one client drive all the load: the budgets would only measure themselves.
      THROTTLE_IP_LIMIT: '0',
      THROTTLE_CLIENT_LIMIT: '0',
      LOG_LEVEL: options.logLevel,
    },
    options.cpuProf ? ['--cpu-prof', '--cpu-prof-dir', options.cpuProf] : [],
  );
  const result = { tokens: options.tokens, profile: options.profile, connections: options.connections, duration_s: options.duration };
  try {
    await waitFor(`${managementUrl}/health/ready`);
    const signer = options.profile === 'fapi' ? await fapiClient(Math.min(options.tokens, 150000), issuer) : undefined;
    await admin(
      managementUrl,
      'PUT',
      '/admin/clients/bench',
      signer ? { auth_method: 'private_key_jwt', jwks: { keys: [signer.jwk] } } : { auth_method: 'client_secret_basic', secret: SECRET },
    );
    const seedStarted = Date.now();
    if (databaseUrl) {
      await seedInSql(databaseUrl, `gw.${run}`, options.tokens);
      if (options.baseline) await seedInSql(databaseUrl, `base.${run}`, options.tokens);
      // Steady state, not the aftermath of a bulk load: hint bits set, statistics current, and the
      // load's dirty pages written out, so the run does not pay for the seeding.
      await sql(databaseUrl, 'VACUUM (ANALYZE) tokens');
      await sql(databaseUrl, 'CHECKPOINT').catch(() => log('CHECKPOINT needs a superuser; skipped'));
    } else {
      await seedThroughAdmin(managementUrl, `gw.${run}`, options.tokens);
    }
    log(
      `seeded ${options.tokens} tokens${databaseUrl && options.baseline ? ' twice (gateway, baseline)' : ''} in ${((Date.now() - seedStarted) / 1000).toFixed(1)} s`,
    );

    // PostgreSQL's side of a revocation: transactions, WAL (full-page images are the cost of
    // touching pages not written since the last checkpoint) and blocks read from outside shared_buffers.
    const dbCounters = async () => {
      if (!databaseUrl) return undefined;
      const [row] = await sql(
        databaseUrl,
        `SELECT d.xact_commit::float8 AS xacts, d.blks_read::float8 AS blks_read, w.wal_fpi::float8 AS wal_fpi, w.wal_bytes::float8 AS wal_bytes
           FROM pg_stat_database d, pg_stat_wal w WHERE d.datname = current_database()`,
      );
      return row;
    };
    const before = await dbCounters();
    const cpu = cpuMeter(gateway.pid);
    let next = 0;
    const fapi = options.profile === 'fapi';
    const gw = await load(
      issuer,
      fapi ? '/token/revocation' : '/token/revoke',
      () => {
        const i = next++;
        const token = `token=gw.${run}.${i % options.tokens}`;
        return fapi
          ? `${token}&client_assertion_type=urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type%3Ajwt-bearer&client_assertion=${signer.assertions[i % signer.assertions.length]}`
          : token;
      },
      () => ({
        'content-type': 'application/x-www-form-urlencoded',
        ...(fapi ? { accept: 'application/json' } : { authorization: `Basic ${Buffer.from(`bench:${SECRET}`).toString('base64')}` }),
        'x-fapi-interaction-id': randomUUID(),
        'x-fapi-auth-date': 'Sun, 22 Nov 2026 17:57:00 GMT',
        'x-fapi-customer-ip-address': '198.51.100.7',
      }),
    );
    const after = await dbCounters();
    const cpuPerRequest = cpu(gw.requests.total);
    // Durable, not just answered: every 2xx is a revoked token with its audit row.
    if (databaseUrl) {
      const [check] = await sql(
        databaseUrl,
        `SELECT (SELECT count(*) FROM tokens WHERE revoked_at IS NOT NULL)::int AS revoked, (SELECT count(*) FROM revocation_events)::int AS events`,
      );
      const answered = gw['2xx'];
      Object.assign(result, { answered_2xx: answered, tokens_revoked: check.revoked, audit_rows: check.events });
      // Requests still in flight when the run stopped (at most one per connection) may have
      // committed without being counted as answered.
      const consistent =
        check.events === check.revoked && check.revoked >= Math.min(answered, options.tokens) && check.revoked <= answered + options.connections;
      if (!consistent) log(`MISMATCH: ${JSON.stringify(check)} for ${answered} answers`);
      result.durable = consistent;
    }
    Object.assign(result, {
      gateway_rps: Math.round(gw.requests.average),
      p50_ms: gw.latency.p50,
      p90_ms: gw.latency.p90,
      p99_ms: gw.latency.p99,
      non2xx: gw.non2xx,
      errors: gw.errors + gw.timeouts,
      rss_mb: peakRssMb(gateway.pid),
      ...(before && after
        ? Object.fromEntries(
            [
              ['db_xacts_per_revocation', 'xacts'],
              ['db_blocks_read_per_revocation', 'blks_read'],
              ['wal_fpi_per_revocation', 'wal_fpi'],
              ['wal_bytes_per_revocation', 'wal_bytes'],
            ].map(([name, key]) => [name, Math.round(((after[key] - before[key]) / gw.requests.total) * 100) / 100]),
          )
        : { db_xacts_per_revocation: null }),
      cpu_ms_per_revocation: cpuPerRequest,
    });
    log(`gateway  ${result.gateway_rps} req/s, p50 ${gw.latency.p50} ms, p99 ${gw.latency.p99} ms, non-2xx ${gw.non2xx}, peak RSS ${result.rss_mb} MB`);
    log(`CPU per revocation: gateway ${cpuPerRequest.gateway} ms, PostgreSQL ${cpuPerRequest.postgres} ms, load generator ${cpuPerRequest.load} ms`);
  } finally {
    await stop(gateway);
    if (upstream) {
      const answered = new Promise((resolve) => upstream.stdout.once('data', (line) => resolve(JSON.parse(line).answered)));
      upstream.kill('SIGTERM');
      result.upstream_delivered = await answered;
    }
  }

  if (databaseUrl && options.baseline) {
    const basePort = await freePort();
    const baseline = start('bench/baseline.cjs', { DATABASE_URL: databaseUrl, PORT: String(basePort) });
    try {
      await new Promise((resolve) => baseline.stdout.once('data', resolve));
      let next = 0;
      const baseCpu = cpuMeter(baseline.pid);
      const base = await load(
        `http://127.0.0.1:${basePort}`,
        '/token/revoke',
        () => `token=base.${run}.${next++ % options.tokens}`,
        () => ({
          'content-type': 'application/x-www-form-urlencoded',
        }),
      );
      Object.assign(result, {
        baseline_rps: Math.round(base.requests.average),
        baseline_p99_ms: base.latency.p99,
        baseline_non2xx: base.non2xx,
        baseline_cpu_ms_per_revocation: baseCpu(base.requests.total),
      });
      result.ratio = Math.round((result.gateway_rps / result.baseline_rps) * 100) / 100;
      log(
        `baseline ${result.baseline_rps} req/s, p99 ${base.latency.p99} ms (ratio ${result.ratio}); CPU per revocation: ${JSON.stringify(result.baseline_cpu_ms_per_revocation)}`,
      );
    } finally {
      await stop(baseline);
      if (!options.keep) await sql(server, `DROP DATABASE ${new URL(databaseUrl).pathname.slice(1)} WITH (FORCE)`);
    }
  } else {
    result.baseline_rps = null;
    if (databaseUrl && !options.keep) await sql(server, `DROP DATABASE ${new URL(databaseUrl).pathname.slice(1)} WITH (FORCE)`);
  }
  printResult(result);
});
