// Helpers of the benchmark scripts (bench/run.cjs, bench/enforcement.cjs): processes, ports,
// /proc readings, SQL seeding and the admin API. Not a test: they only help print numbers.
const { execFileSync, spawn } = require('node:child_process');
const { closeSync, openSync, readdirSync, readFileSync } = require('node:fs');
const { createServer } = require('node:net');
const { join } = require('node:path');
const { Client } = require('pg');

const ROOT = join(__dirname, '..');
const ADMIN = 'bench-admin-token-0123456789';
const log = (...parts) => process.stderr.write(`${parts.join(' ')}\n`);

async function freePort() {
  const server = createServer();
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function waitFor(url, timeoutMs = 60000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      if ((await fetch(url)).ok) return;
    } catch {}
    if (Date.now() > deadline) throw new Error(`${url} not ready`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/**
 * A node process. With `logFile`, its stdout (the gateway's request lines) goes to that file, as a
 * container runtime takes it to its log file: read by nobody here, so that the load generator,
 * which shares the machine, does not also pay for reading every line back through a pipe.
 */
function start(script, env, nodeFlags = [], { logFile } = {}) {
  const stdout = logFile ? openSync(logFile, 'w') : 'pipe';
  const child = spawn(process.execPath, [...nodeFlags, script], { cwd: ROOT, env: { PATH: process.env.PATH, ...env }, stdio: ['ignore', stdout, 'inherit'] });
  if (logFile) closeSync(stdout);
  else child.stdout.resume(); // the request lines are written, as in production, and dropped here
  return child;
}

async function stop(child) {
  if (child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.on('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}

/** Peak resident set size of a process, from the kernel's high-water mark. */
function peakRssMb(pid) {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8')
    .split('\n')
    .find((l) => l.startsWith('VmHWM:'));
  return Math.round(Number(line.split(/\s+/)[1]) / 1024);
}

/** CPU time (ms) spent so far by the processes `pick` selects, from /proc (Linux): utime + stime. */
function cpuMs(pick) {
  const tick = 1000 / 100; // USER_HZ is 100 on Linux
  let total = 0;
  for (const pid of readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      if (!pick(Number(pid), comm)) continue;
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      total += (Number(fields[11]) + Number(fields[12])) * tick; // utime, stime (fields 14 and 15)
    } catch {} // gone meanwhile
  }
  return total;
}

/** CPU per request of the gateway, PostgreSQL (every backend) and this process (the load generator). */
function cpuMeter(gatewayPid) {
  const read = () => ({
    gateway: cpuMs((pid) => pid === gatewayPid),
    postgres: cpuMs((_, comm) => comm === 'postgres'),
    load: (process.cpuUsage().user + process.cpuUsage().system) / 1000,
  });
  const start = read();
  return (requests) => {
    const end = read();
    const per = (key) => Math.round(((end[key] - start[key]) / requests) * 1000) / 1000;
    return { gateway: per('gateway'), postgres: per('postgres'), load: per('load') };
  };
}

async function sql(url, text, values) {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(text, values)).rows;
  } finally {
    await client.end();
  }
}

/** N access tokens of client `bench`, `<prefix>.<i>`, hashed by PostgreSQL itself. */
async function seedInSql(url, prefix, count) {
  for (let from = 0; from < count; from += 1_000_000) {
    const to = Math.min(count, from + 1_000_000) - 1;
    await sql(
      url,
      `INSERT INTO tokens (tenant, token_hash, token_type, client_id, grant_id, consent_id, expires_at)
       SELECT 'default', sha256(convert_to($1 || '.' || i, 'UTF8')), 'access_token', 'bench', 'g' || i, 'c' || (i % 1000), now() + interval '1 year'
         FROM generate_series($2::int, $3::int) AS i`,
      [prefix, from, to],
    );
  }
}

async function admin(managementUrl, method, path, body) {
  const response = await fetch(managementUrl + path, {
    method,
    headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (response.status >= 300) throw new Error(`${method} ${path}: ${response.status} ${await response.text()}`);
}

/** The last line a bench prints: its result as one JSON object, with the Node version and the commit. */
function printResult(result) {
  result.node = process.version;
  try {
    result.commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim();
  } catch {}
  console.log(JSON.stringify(result));
}

/** Runs a bench; a failure is its stack on stderr and exit status 1. */
function main(run) {
  run().catch((error) => {
    process.stderr.write(`${error.stack ?? error.message}\n`);
    process.exit(1);
  });
}

module.exports = { printResult, main, ROOT, ADMIN, log, freePort, waitFor, start, stop, peakRssMb, cpuMs, cpuMeter, sql, seedInSql, admin };
