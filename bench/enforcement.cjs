// `npm run -s bench -- --scenario introspect|check|freshness` (bench/run.cjs hands over here): the
// enforcement side under load. Not a test: it prints numbers, the last line one JSON object.
//
//   DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres npm run -s bench -- --scenario check
//     [--tokens 200000] [--hot 10000] [--connections 50] [--duration 10] [--revocations 1000]
//
// introspect / check: `--tokens` registered tokens (seeded in SQL), `--hot` of them in rotation
// (what a bank's API traffic looks like: the same tokens again and again over their life), sent to
// the gateway's /token/introspect (a resource server, client_secret_basic) or /authz/check, then
// to bench/lookup-baseline.cjs (node:http + pg, one indexed SELECT per request) on the same
// database. freshness: two gateways on one database; B serves checks (a background load on the
// hot tokens) while each of `--revocations` tokens, first checked on B so that B holds it in
// memory, is revoked on A; the time from A's 2xx to B's first 401 is measured.
const { randomUUID } = require('node:crypto');
const { rmSync } = require('node:fs');
const { tmpdir } = require('node:os');
const { join } = require('node:path');
const { performance } = require('node:perf_hooks');
const autocannon = require('autocannon');
const { ADMIN, log, freePort, waitFor, start, stop, peakRssMb, cpuMeter, sql, seedInSql, admin, printResult, main } = require('./support.cjs');

const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : fallback;
};
const options = {
  scenario: arg('scenario'),
  tokens: Number(arg('tokens', 200000)),
  hot: Number(arg('hot', 10000)),
  connections: Number(arg('connections', 50)),
  duration: Number(arg('duration', 10)),
  revocations: Number(arg('revocations', 1000)),
  /** Writes the gateway's V8 CPU profile (.cpuprofile) into this directory (bench/cpu-summary.cjs reads it). */
  cpuProf: arg('cpu-prof', undefined),
};
if (!['introspect', 'check', 'freshness'].includes(options.scenario)) throw new Error('--scenario is revoke, introspect, check or freshness');
const RS = { id: 'bench-rs', secret: 'bench-rs-secret-0123456789abcdef' };
const TPP = { id: 'bench', secret: 'bench-secret-0123456789abcdef0123' };
const basic = ({ id, secret }) => `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`;
const quantile = (sorted, q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];

/** Steady state after the seeding, as bench/run.cjs does: statistics current, dirty pages written. */
async function settle(databaseUrl) {
  await sql(databaseUrl, 'VACUUM (ANALYZE) tokens');
  await sql(databaseUrl, 'CHECKPOINT').catch(() => log('CHECKPOINT needs a superuser; skipped'));
}

async function startGateway(databaseUrl, migrate) {
  const [port, managementPort] = [await freePort(), await freePort()];
  const child = start(
    'dist/src/main.js',
    {
      DATABASE_URL: databaseUrl,
      ...(migrate ? { MIGRATIONS_RUN: 'true' } : {}),
      PORT: String(port),
      MANAGEMENT_PORT: String(managementPort),
      HOST: '127.0.0.1',
      ISSUER: `http://127.0.0.1:${port}`,
      ADMIN_API_TOKEN: ADMIN,
      // One address and one client drive all the load: the budgets would only measure themselves.
      THROTTLE_IP_LIMIT: '0',
      THROTTLE_CLIENT_LIMIT: '0',
      THROTTLE_RESOURCE_SERVER_LIMIT: '0',
      // Info: one line per request, as in production, into a file (support.cjs `start`).
      LOG_LEVEL: 'info',
    },
    options.cpuProf ? ['--cpu-prof', '--cpu-prof-dir', options.cpuProf] : [],
    { logFile: join(tmpdir(), `revgw-bench-${process.pid}-${port}.log`) },
  );
  if (!process.env.BENCH_KEEP_LOG) child.on('exit', () => rmSync(join(tmpdir(), `revgw-bench-${process.pid}-${port}.log`), { force: true }));
  const gw = { child, publicUrl: `http://127.0.0.1:${port}`, managementUrl: `http://127.0.0.1:${managementPort}` };
  await waitFor(`${gw.managementUrl}/health/ready`);
  return gw;
}

/** Requests on the hot tokens: introspection (a form) or the check (a bearer token, GET). */
/** `duration` seconds of load, or with `amount`, that many requests (the warm-up: one pass over the hot set). */
function hotLoad(url, kind, prefix, duration, connections, amount) {
  let next = 0;
  const token = () => `${prefix}.${next++ % options.hot}`;
  const request =
    kind === 'introspect'
      ? {
          method: 'POST',
          path: '/token/introspect',
          setupRequest: (r) => ({
            ...r,
            headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(RS), 'x-fapi-interaction-id': randomUUID() },
            body: `token=${token()}`,
          }),
        }
      : { method: 'GET', path: '/authz/check/accounts', setupRequest: (r) => ({ ...r, headers: { authorization: `Bearer ${token()}` } }) };
  return autocannon({ url, connections, ...(amount ? { amount } : { duration }), requests: [request] });
}

async function metric(managementUrl, series) {
  const text = await (await fetch(`${managementUrl}/metrics`)).text();
  return Number(
    text
      .split('\n')
      .find((line) => line.startsWith(series + ' '))
      ?.split(' ')[1] ?? NaN,
  );
}

async function throughput(databaseUrl, run) {
  const result = { scenario: options.scenario, tokens: options.tokens, hot: options.hot, connections: options.connections, duration_s: options.duration };
  const gw = await startGateway(databaseUrl, true);
  try {
    await admin(gw.managementUrl, 'PUT', `/admin/clients/${TPP.id}`, { auth_method: 'client_secret_basic', secret: TPP.secret });
    await admin(gw.managementUrl, 'PUT', `/admin/clients/${RS.id}`, { auth_method: 'client_secret_basic', secret: RS.secret, role: 'resource_server' });
    await seedInSql(databaseUrl, `gw.${run}`, options.tokens);
    await settle(databaseUrl);
    const url = options.scenario === 'introspect' ? gw.publicUrl : gw.managementUrl;
    const cpu = cpuMeter(gw.child.pid);
    // Steady state, as API traffic is: one pass over the hot set first, so that the timed run
    // measures tokens the gateway has seen before (the misses of a first sight are the warm-up's).
    await hotLoad(url, options.scenario, `gw.${run}`, 0, options.connections, options.hot);
    const [hits0, misses0] = [
      await metric(gw.managementUrl, 'revgw_token_status_lookups_total{result="hit"}'),
      await metric(gw.managementUrl, 'revgw_token_status_lookups_total{result="miss"}'),
    ];
    const load = await hotLoad(url, options.scenario, `gw.${run}`, options.duration, options.connections);
    const [hits, misses] = [
      await metric(gw.managementUrl, 'revgw_token_status_lookups_total{result="hit"}'),
      await metric(gw.managementUrl, 'revgw_token_status_lookups_total{result="miss"}'),
    ];
    Object.assign(result, {
      gateway_rps: Math.round(load.requests.average),
      p50_ms: load.latency.p50,
      p99_ms: load.latency.p99,
      non2xx: load.non2xx,
      errors: load.errors + load.timeouts,
      rss_mb: peakRssMb(gw.child.pid),
      cache_hit_ratio: Math.round(((hits - hits0) / (hits - hits0 + misses - misses0)) * 1000) / 1000,
      cpu_ms_per_request: cpu(load.requests.total),
    });
    log(
      `gateway  ${result.gateway_rps} req/s, p50 ${result.p50_ms} ms, p99 ${result.p99_ms} ms, non-2xx ${result.non2xx}, RSS ${result.rss_mb} MB, hits ${result.cache_hit_ratio}`,
    );
  } finally {
    await stop(gw.child);
  }
  const basePort = await freePort();
  const baseline = start('bench/lookup-baseline.cjs', { DATABASE_URL: databaseUrl, PORT: String(basePort) });
  try {
    await new Promise((resolve) => baseline.stdout.once('data', resolve));
    await hotLoad(`http://127.0.0.1:${basePort}`, options.scenario, `gw.${run}`, 0, options.connections, options.hot);
    const base = await hotLoad(`http://127.0.0.1:${basePort}`, options.scenario, `gw.${run}`, options.duration, options.connections);
    Object.assign(result, { baseline_rps: Math.round(base.requests.average), baseline_p99_ms: base.latency.p99, baseline_non2xx: base.non2xx });
    result.ratio = Math.round((result.gateway_rps / result.baseline_rps) * 100) / 100;
    log(`baseline ${result.baseline_rps} req/s, p99 ${result.baseline_p99_ms} ms (ratio ${result.ratio})`);
  } finally {
    await stop(baseline);
  }
  return result;
}

async function freshness(databaseUrl, run) {
  const a = await startGateway(databaseUrl, true);
  const b = await startGateway(databaseUrl, false);
  const result = { scenario: 'freshness', revocations: options.revocations };
  try {
    await admin(a.managementUrl, 'PUT', `/admin/clients/${TPP.id}`, { auth_method: 'client_secret_basic', secret: TPP.secret });
    await seedInSql(databaseUrl, `gw.${run}`, Math.max(options.hot, options.revocations) + options.revocations);
    await settle(databaseUrl);
    // Tokens past the hot set are the ones revoked, each held in B's memory first.
    const revoked = Array.from({ length: options.revocations }, (_, i) => `gw.${run}.${options.hot + i}`);
    for (const token of revoked) await fetch(`${b.managementUrl}/authz/check`, { headers: { authorization: `Bearer ${token}` } });
    const background = hotLoad(b.managementUrl, 'check', `gw.${run}`, 3600, 10);
    const latencies = [];
    let missed = 0;
    for (const token of revoked) {
      const answer = await fetch(`${a.publicUrl}/token/revoke`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(TPP) },
        body: `token=${token}`,
      });
      if (answer.status !== 200) throw new Error(`revocation answered ${answer.status}`);
      const revokedAt = performance.now();
      for (;;) {
        const status = (await fetch(`${b.managementUrl}/authz/check`, { headers: { authorization: `Bearer ${token}` } })).status;
        const elapsed = performance.now() - revokedAt;
        if (status === 401) {
          latencies.push(elapsed);
          break;
        }
        if (elapsed > 1000) {
          missed++;
          break;
        }
      }
    }
    background.stop();
    const checks = await background;
    latencies.sort((x, y) => x - y);
    const ms = (value) => Math.round(value * 100) / 100;
    Object.assign(result, {
      p50_ms: ms(quantile(latencies, 0.5)),
      p90_ms: ms(quantile(latencies, 0.9)),
      p99_ms: ms(quantile(latencies, 0.99)),
      max_ms: ms(latencies[latencies.length - 1]),
      missed,
      background_check_rps: Math.round(checks.requests.average),
      background_non2xx: checks.non2xx,
    });
    const buckets = [1, 2, 5, 10, 20, 50, 100, 1000];
    log(`revoking 2xx on A → first 401 on B, over ${latencies.length} revocations (${missed} missed):`);
    for (const [i, limit] of buckets.entries()) {
      const from = i === 0 ? 0 : buckets[i - 1];
      log(`  ${String(from).padStart(4)}–${String(limit).padEnd(4)} ms  ${latencies.filter((v) => v >= from && v < limit).length}`);
    }
  } finally {
    await stop(a.child);
    await stop(b.child);
  }
  return result;
}

main(async () => {
  const server = process.env.DATABASE_URL;
  if (!server)
    throw new Error(`--scenario ${options.scenario} needs DATABASE_URL (a server the user may CREATE DATABASE on): the baseline and the replicas share it`);
  const run = Date.now().toString(36);
  const name = `revgw_bench_${run}`;
  await sql(server, `CREATE DATABASE ${name}`);
  const url = new URL(server);
  url.pathname = `/${name}`;
  let result;
  try {
    result = options.scenario === 'freshness' ? await freshness(url.toString(), run) : await throughput(url.toString(), run);
  } finally {
    await sql(server, `DROP DATABASE ${name} WITH (FORCE)`);
  }
  printResult(result);
});
