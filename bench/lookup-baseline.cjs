#!/usr/bin/env node
// The baseline introspection and the check are measured against (bench/enforcement.cjs): node:http
// + pg doing one indexed SELECT by token hash per request, as a named prepared statement, and
// answering RFC 7662's active flag; no framework, authentication, logging, throttling or cache.
//
//   DATABASE_URL=postgres://… PORT=8089 node bench/lookup-baseline.cjs
const { createServer } = require('node:http');
const { createHash } = require('node:crypto');
const { Pool } = require('pg');

const pool = new Pool({ connectionString: process.env.DATABASE_URL, max: Number(process.env.POOL_SIZE ?? 10) });
const LOOKUP = {
  name: 'lookup',
  text: `SELECT client_id, expires_at, (revoked_at IS NULL AND expires_at > now()) AS active FROM tokens WHERE tenant = 'default' AND token_hash = $1`,
};

createServer((request, response) => {
  let body = '';
  request.setEncoding('utf8');
  request.on('data', (chunk) => (body += chunk));
  request.on('end', async () => {
    // A form (introspection) or a bearer token (the check): the same lookup either way.
    const token = new URLSearchParams(body).get('token') ?? /^Bearer (.+)$/.exec(request.headers.authorization ?? '')?.[1];
    if (!token) return response.writeHead(400).end();
    try {
      const { rows } = await pool.query({ ...LOOKUP, values: [createHash('sha256').update(token).digest()] });
      const active = rows[0]?.active === true;
      const answer = active ? { active, client_id: rows[0].client_id, exp: Math.floor(rows[0].expires_at.getTime() / 1000) } : { active };
      response.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' }).end(JSON.stringify(answer));
    } catch {
      response.writeHead(503).end();
    }
  });
}).listen(Number(process.env.PORT ?? 8089), '127.0.0.1', () => process.stdout.write('baseline listening\n'));
