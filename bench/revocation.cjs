#!/usr/bin/env node
// Throughput of POST /token/revoke against a running gateway, every request revoking a different
// registered token (client_secret_basic). Prints one JSON line. Not a test: run it by hand.
//
//   ADMIN_API_TOKEN=... PUBLIC_URL=http://127.0.0.1:8080 MANAGEMENT_URL=http://127.0.0.1:9464 \
//     node bench/revocation.cjs [--tokens 100000] [--connections 50] [--duration 10]
const autocannon = require('autocannon');

const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const tokens = arg('tokens', 100000);
const connections = arg('connections', 50);
const duration = arg('duration', 10);
const publicUrl = process.env.PUBLIC_URL ?? 'http://127.0.0.1:8080';
const managementUrl = process.env.MANAGEMENT_URL ?? 'http://127.0.0.1:9464';
const admin = { authorization: `Bearer ${process.env.ADMIN_API_TOKEN}`, 'content-type': 'application/json' };
const secret = 'bench-secret-0123456789abcdef0123';

async function call(method, path, body) {
  const response = await fetch(managementUrl + path, { method, headers: admin, body: JSON.stringify(body) });
  if (response.status >= 300) throw new Error(`${method} ${path}: ${response.status} ${await response.text()}`);
}

(async () => {
  const run = Date.now().toString(36);
  await call('PUT', '/admin/clients/bench', { auth_method: 'client_secret_basic', secret });
  for (let i = 0; i < tokens; i += 10000) {
    const batch = Array.from({ length: Math.min(10000, tokens - i) }, (_, j) => ({
      token: `bench-${run}-${i + j}`,
      token_type: 'access_token',
      client_id: 'bench',
      grant_id: `grant-${i + j}`,
      consent_id: `consent-${run}-${(i + j) % 1000}`,
      expires_at: '2030-01-01T00:00:00Z',
    }));
    await call('POST', '/admin/tokens', { tokens: batch });
  }
  let next = 0;
  const result = await autocannon({
    url: `${publicUrl}/token/revoke`,
    connections,
    duration,
    requests: [
      {
        method: 'POST',
        setupRequest: (request) => ({
          ...request,
          headers: {
            authorization: `Basic ${Buffer.from(`bench:${secret}`).toString('base64')}`,
            'content-type': 'application/x-www-form-urlencoded',
          },
          body: `token=bench-${run}-${next++ % tokens}`,
        }),
      },
    ],
  });
  console.log(
    JSON.stringify({
      tokens,
      connections,
      duration_s: duration,
      requests: result.requests.total,
      rps: result.requests.average,
      p50_ms: result.latency.p50,
      p99_ms: result.latency.p99,
      non2xx: result.non2xx,
      errors: result.errors,
    }),
  );
})().catch((error) => {
  process.stderr.write(`${error.message}\n`);
  process.exit(1);
});
