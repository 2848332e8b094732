// `npm run -s bench -- --scenario events`: revocation events (docs/api.md §12) under load. Not a
// test: it prints numbers; the last line is one JSON object (other tools read it).
//
//   DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres npm run -s bench -- --scenario events
//     [--rate 500] [--duration 60] [--saturate 10] [--connections 20] [--bulk 100000] [--statement-timeout ms]
//
// On a fresh database on that server, one gateway (dist/, as `npm start` runs it) and a receiver
// in this process that answers 202 at once:
// 1. `--rate` revocations/s for `--duration` s, no stream: the revocation's own latency;
// 2. the same with two push streams (token-revoked): each SET's time from the revoking 2xx to the
//    receiver's 202, and how many of the expected SETs arrived;
// 3. as many revocations as `--connections` connections get through in `--saturate` s, with the two
//    streams, with them paused (SETs written, not sent), and without them: what the events cost;
// 4. a bulk revocation of `--bulk` tokens of one subject: how long until every SET (two per token)
//    is delivered, and the drain rate.
const { createHash, randomUUID } = require('node:crypto');
const { createServer } = require('node:http');
const { performance } = require('node:perf_hooks');
const autocannon = require('autocannon');
const { ADMIN, log, freePort, waitFor, start, stop, sql, admin, printResult, main, cpuMeter } = require('./support.cjs');

const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const options = {
  rate: arg('rate', 500),
  duration: arg('duration', 60),
  saturate: arg('saturate', 10),
  connections: arg('connections', 20),
  bulk: arg('bulk', 100000),
  statementTimeoutMs: arg('statement-timeout', 0),
};
const SECRET = 'bench-secret-0123456789abcdef0123';
const TOKEN_REVOKED = 'https://schemas.openid.net/secevent/oauth/event-type/token-revoked';
const percentile = (sorted, p) => (sorted.length === 0 ? null : sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]);
const round = (n) => (n === null ? null : Math.round(n * 100) / 100);

/** The receiver: answers 202, and notes when each token's SET arrived, per stream path. */
function receiver() {
  const arrived = new Map(); // `${path} ${sub_id.id}` → ms
  const server = createServer((request, response) => {
    const chunks = [];
    request.on('data', (c) => chunks.push(c));
    request.on('end', () => {
      const at = performance.now();
      const claims = JSON.parse(Buffer.from(Buffer.concat(chunks).toString('utf8').split('.')[1], 'base64url').toString('utf8'));
      arrived.set(`${request.url} ${claims.sub_id.id}`, at);
      response.writeHead(202).end();
    });
  });
  return { server, arrived };
}

main(async () => {
  const server = process.env.DATABASE_URL;
  if (!server) throw new Error('the events bench needs DATABASE_URL (a PostgreSQL server it may CREATE DATABASE on)');
  const run = Date.now().toString(36);
  const name = `revgw_bench_${run}`;
  await sql(server, `CREATE DATABASE ${name}`);
  const url = new URL(server);
  url.pathname = `/${name}`;
  const databaseUrl = url.toString();
  const [port, managementPort, receiverPort] = [await freePort(), await freePort(), await freePort()];
  const issuer = `http://127.0.0.1:${port}`;
  const managementUrl = `http://127.0.0.1:${managementPort}`;
  const sink = receiver();
  await new Promise((resolve) => sink.server.listen(receiverPort, '127.0.0.1', resolve));
  const gateway = start(
    'dist/src/main.js',
    {
      DATABASE_URL: databaseUrl,
      MIGRATIONS_RUN: 'true',
      PORT: String(port),
      MANAGEMENT_PORT: String(managementPort),
      HOST: '127.0.0.1',
      ISSUER: issuer,
      ADMIN_API_TOKEN: ADMIN,
      THROTTLE_IP_LIMIT: '0',
      THROTTLE_CLIENT_LIMIT: '0',
      LOG_LEVEL: 'warn',
      // `--statement-timeout`: the bulk revocation of `--bulk` tokens must fit in it (5 s by default).
      ...(options.statementTimeoutMs ? { DATABASE_STATEMENT_TIMEOUT_MS: String(options.statementTimeoutMs) } : {}),
    },
    [],
    process.env.BENCH_GATEWAY_LOG ? { logFile: process.env.BENCH_GATEWAY_LOG } : {},
  );
  const result = { scenario: 'events', rate: options.rate, duration_s: options.duration, connections: options.connections };
  try {
    await waitFor(`${managementUrl}/health/ready`);
    await admin(managementUrl, 'PUT', '/admin/clients/bench', { auth_method: 'client_secret_basic', secret: SECRET });
    const perPhase = Math.ceil(options.rate * options.duration * 1.2) + 200000;
    await sql(
      databaseUrl,
      `INSERT INTO tokens (tenant, token_hash, token_type, client_id, grant_id, expires_at)
       SELECT 'default', sha256(convert_to($1 || '.' || i, 'UTF8')), 'access_token', 'bench', 'g' || i, now() + interval '1 year'
         FROM generate_series(0, $2::int) AS i`,
      [`ev.${run}`, 4 * perPhase],
    );
    await sql(
      databaseUrl,
      `INSERT INTO tokens (tenant, token_hash, token_type, client_id, grant_id, subject, expires_at)
       SELECT 'default', sha256(convert_to($1 || '.' || i, 'UTF8')), 'access_token', 'bench', 'bulk-g' || i, 'bulk-psu', now() + interval '1 year'
         FROM generate_series(1, $2::int) AS i`,
      [`bulk.${run}`, options.bulk],
    );
    await sql(databaseUrl, 'VACUUM (ANALYZE) tokens');
    await sql(databaseUrl, 'CHECKPOINT').catch(() => undefined);
    log(`seeded ${4 * perPhase + options.bulk} tokens`);

    let next = 0;
    /** One phase of revocations, each of another token; answers autocannon's result and each token's 2xx time. */
    const revoke = async ({ rate, duration }) => {
      const answered = new Map();
      const cpu = cpuMeter(gateway.pid);
      const result = await autocannon({
        url: issuer,
        connections: options.connections,
        duration,
        ...(rate ? { overallRate: rate } : {}),
        requests: [
          {
            method: 'POST',
            path: '/token/revoke',
            setupRequest: (request, context) => {
              context.token = `ev.${run}.${next++}`;
              return {
                ...request,
                headers: {
                  'content-type': 'application/x-www-form-urlencoded',
                  authorization: `Basic ${Buffer.from(`bench:${SECRET}`).toString('base64')}`,
                  'x-fapi-interaction-id': randomUUID(),
                },
                body: `token=${context.token}`,
              };
            },
            onResponse: (status, _body, context) => {
              if (status === 200) answered.set(createHash('sha256').update(context.token).digest('base64url'), performance.now());
            },
          },
        ],
      });
      // The gateway's CPU per revocation (its deliveries included), and PostgreSQL's.
      return { result, answered, cpu: cpu(result.requests.total) };
    };

    // 1. No stream.
    const plain = await revoke({ rate: options.rate, duration: options.duration });
    Object.assign(result, {
      revocations_per_s_without_streams: Math.round(plain.result.requests.average),
      revocation_p99_ms_without_streams: plain.result.latency.p99,
    });
    log(`no streams: ${result.revocations_per_s_without_streams} revocations/s, p99 ${plain.result.latency.p99} ms`);

    // 2. Two push streams.
    const streams = ['/a', '/b'];
    for (const path of streams) {
      await admin(managementUrl, 'POST', '/admin/ssf/streams', {
        aud: `https://rs${path.slice(1)}.example`,
        delivery: { method: 'urn:ietf:rfc:8935', endpoint_url: `http://127.0.0.1:${receiverPort}${path}` },
        events_requested: [TOKEN_REVOKED],
      });
    }
    sink.arrived.clear();
    const streamed = await revoke({ rate: options.rate, duration: options.duration });
    const expected = streamed.answered.size * streams.length;
    const drainDeadline = Date.now() + 60000;
    while (Date.now() < drainDeadline && [...streamed.answered.keys()].some((hash) => streams.some((path) => !sink.arrived.has(`${path} ${hash}`)))) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const lags = [];
    for (const [hash, at] of streamed.answered) {
      for (const path of streams) {
        const arrivedAt = sink.arrived.get(`${path} ${hash}`);
        if (arrivedAt !== undefined) lags.push(arrivedAt - at);
      }
    }
    lags.sort((x, y) => x - y);
    Object.assign(result, {
      revocations_per_s: Math.round(streamed.result.requests.average),
      revocation_p99_ms_with_streams: streamed.result.latency.p99,
      sets_expected: expected,
      sets_delivered: lags.length,
      p50_ms: round(percentile(lags, 50)),
      p99_ms: round(percentile(lags, 99)),
      max_ms: round(lags[lags.length - 1] ?? null),
    });
    log(`two streams: ${result.revocations_per_s} revocations/s; SETs ${lags.length}/${expected}, 2xx → 202 p50 ${result.p50_ms} ms, p99 ${result.p99_ms} ms`);

    // 3. Saturation, with the streams, then without.
    const setStatus = async (status) => {
      for (const stream of (await (await fetch(`${managementUrl}/admin/ssf/streams`, { headers: { authorization: `Bearer ${ADMIN}` } })).json()).streams) {
        await fetch(`${managementUrl}/admin/ssf/streams/${stream.stream_id}/status`, {
          method: 'POST',
          headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
          body: JSON.stringify({ status }),
        });
      }
    };
    const withStreams = await revoke({ duration: options.saturate });
    result.revocation_rps_with_streams = Math.round(withStreams.result.requests.average);
    await new Promise((resolve) => setTimeout(resolve, 5000));
    // Paused: the SETs are written, not sent — what the writing alone costs.
    await setStatus('paused');
    const paused = await revoke({ duration: options.saturate });
    result.revocation_rps_with_streams_paused = Math.round(paused.result.requests.average);
    await setStatus('disabled');
    const withoutStreams = await revoke({ duration: options.saturate });
    result.revocation_rps_without_streams = Math.round(withoutStreams.result.requests.average);
    result.gateway_cpu_ms_per_revocation = { with_streams: withStreams.cpu.gateway, paused: paused.cpu.gateway, without_streams: withoutStreams.cpu.gateway };
    result.postgres_cpu_ms_per_revocation = {
      with_streams: withStreams.cpu.postgres,
      paused: paused.cpu.postgres,
      without_streams: withoutStreams.cpu.postgres,
    };
    result.throughput_ratio = round(result.revocation_rps_with_streams / result.revocation_rps_without_streams);
    log(
      `saturated: ${result.revocation_rps_without_streams} revocations/s without streams, ${result.revocation_rps_with_streams} with (ratio ${result.throughput_ratio}), ${result.revocation_rps_with_streams_paused} with both paused`,
    );

    // 4. The bulk revocation, to two enabled streams.
    if (options.bulk > 0) {
      await setStatus('enabled');
      sink.arrived.clear();
      const bulkStarted = performance.now();
      const response = await fetch(`${managementUrl}/admin/revocations`, {
        method: 'POST',
        headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
        body: JSON.stringify({ subject: 'bulk-psu' }),
      });
      const bulkAnswered = performance.now();
      if (response.status !== 200) throw new Error(`the bulk revocation answered ${response.status}: ${await response.text()}`);
      const { revoked } = await response.json();
      const bulkExpected = revoked * streams.length;
      const bulkDeadline = Date.now() + 600000;
      while (sink.arrived.size < bulkExpected && Date.now() < bulkDeadline) await new Promise((resolve) => setTimeout(resolve, 200));
      const times = [...sink.arrived.values()].sort((x, y) => x - y);
      Object.assign(result, {
        bulk_tokens: revoked,
        bulk_revocation_ms: Math.round(bulkAnswered - bulkStarted),
        bulk_sets_expected: bulkExpected,
        bulk_sets_delivered: sink.arrived.size,
        bulk_seconds_to_deliver: round((times[times.length - 1] - bulkAnswered) / 1000),
        bulk_drain_sets_per_s: Math.round(sink.arrived.size / ((times[times.length - 1] - times[0]) / 1000)),
      });
      log(
        `bulk: ${revoked} tokens revoked in ${result.bulk_revocation_ms} ms; ${sink.arrived.size}/${bulkExpected} SETs delivered ${result.bulk_seconds_to_deliver} s after, ${result.bulk_drain_sets_per_s} SETs/s`,
      );
    }
  } finally {
    await stop(gateway);
    sink.server.close();
    await sql(server, `DROP DATABASE ${name} WITH (FORCE)`);
  }
  printResult(result);
});
