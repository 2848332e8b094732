#!/usr/bin/env node
// The baseline the gateway is measured against: node:http + pg doing the gateway's own
// revocation statement (the same SQL, one request per statement, as a named prepared statement),
// for one fixed client, with no framework, authentication, logging, throttling or group commit.
// Started by bench/run.cjs.
//
//   DATABASE_URL=postgres://… PORT=8089 node bench/baseline.cjs
const { createServer } = require('node:http');
const { createHash, randomUUID } = require('node:crypto');
const { Pool } = require('pg');
const { batchParameters } = require('../dist/src/revocation/revocation-store.js');
const { REVOKE_BATCH_SQL } = require('../dist/src/revocation/revocation-statements.js');

const pool = new Pool({
  connectionString: process.env.DATABASE_URL,
  max: Number(process.env.POOL_SIZE ?? 10),
  options: '-c plan_cache_mode=force_generic_plan',
});
const clientId = process.env.CLIENT_ID ?? 'bench';

createServer((request, response) => {
  let body = '';
  request.setEncoding('utf8');
  request.on('data', (chunk) => (body += chunk));
  request.on('end', async () => {
    const token = new URLSearchParams(body).get('token');
    if (!token) return response.writeHead(400).end();
    const hash = createHash('sha256').update(token).digest();
    const id = randomUUID();
    const params = batchParameters([
      {
        tenant: 'default',
        tokenHash: hash,
        clientId,
        levels: { access_token: 'NONE', refresh_token: 'RELATED_TOKENS' },
        interactionId: id,
        profile: 'rfc7009',
      },
    ]);
    try {
      await pool.query({ name: 'revoke', text: REVOKE_BATCH_SQL, values: params });
      response.writeHead(200, { 'cache-control': 'no-store' }).end();
    } catch {
      response.writeHead(503).end();
    }
  });
}).listen(Number(process.env.PORT ?? 8089), '127.0.0.1', () => process.stdout.write('baseline listening\n'));
