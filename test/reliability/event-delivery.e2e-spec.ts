import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ADMIN_TOKEN, basic, freshDatabase, newToken } from '../support/gateway';
import { SetReceiver } from '../support/set-receiver';

const ROOT = join(__dirname, '..', '..');
/** Compiled like `npm run build`, out of the way of dist/ and of the other lifecycle builds. */
const OUT = join(ROOT, 'node_modules', '.cache', 'revgw-events-build');
const TOKEN_REVOKED = 'https://schemas.openid.net/secevent/oauth/event-type/token-revoked';
/** Sizes: CI runs it small; `npm run reliability` with EVENTS_DOWN_S=60 and EVENTS_TOKENS=5000 (docs/RELIABILITY.md). */
const DOWN_S = Number(process.env.EVENTS_DOWN_S ?? 5);
const TOKENS = Number(process.env.EVENTS_TOKENS ?? 1000);

interface Replica {
  child: ChildProcess;
  publicUrl: string;
  managementUrl: string;
}

/**
 * docs/api.md §12.4 under faults, on real processes sharing one PostgreSQL: the receiver refuses
 * connections for DOWN_S seconds while two replicas take revocations; then it is back, and one
 * replica is killed (SIGKILL) mid-drain and started again. Every SET is delivered, none is ever
 * in flight twice at once, and the duplicates a kill between the receiver's 202 and the settle
 * may cause are counted.
 */
(process.env.DATABASE_URL ? describe : describe.skip)('event delivery: a receiver down, then a replica killed mid-drain', () => {
  let database: Awaited<ReturnType<typeof freshDatabase>>;
  const replicas: Replica[] = [];

  beforeAll(async () => {
    await promisify(execFile)(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', join(ROOT, 'tsconfig.json'), '--outDir', OUT], { cwd: ROOT });
    database = await freshDatabase();
  }, 120_000);
  afterAll(async () => {
    for (const { child } of replicas) if (child.exitCode === null) child.kill('SIGKILL');
    await database?.drop();
  });

  async function startReplica(migrate: boolean): Promise<Replica> {
    let output = '';
    const child = spawn(process.execPath, [join(OUT, 'src', 'main.js')], {
      env: {
        PATH: process.env.PATH,
        PORT: '0',
        MANAGEMENT_PORT: '0',
        HOST: '127.0.0.1',
        ADMIN_API_TOKEN: ADMIN_TOKEN,
        THROTTLE_IP_LIMIT: '0',
        THROTTLE_CLIENT_LIMIT: '0',
        SSF_PUSH_TIMEOUT_MS: '1000',
        LOG_LEVEL: 'info',
        DATABASE_URL: database!.url,
        MIGRATIONS_RUN: String(migrate),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const ports = await new Promise<{ port: number; management_port: number }>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no start:\n${output}`)), 30_000);
      const look = () => {
        const line = output.split('\n').find((l) => l.includes('"gateway listening"'));
        if (line) {
          clearTimeout(timer);
          resolve(JSON.parse(line));
          // Its request lines from here on are not kept.
          child.stdout!.removeAllListeners('data');
          child.stdout!.resume();
        }
      };
      child.stdout!.on('data', look);
      child.stderr!.on('data', look);
    });
    const replica = { child, publicUrl: `http://127.0.0.1:${ports.port}`, managementUrl: `http://127.0.0.1:${ports.management_port}` };
    replicas.push(replica);
    return replica;
  }

  const admin = (replica: Replica, method: string, path: string, body: unknown) =>
    fetch(replica.managementUrl + path, {
      method,
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });

  it('every SET delivered, none twice at the same time, across a 60 s outage and a SIGKILL', async () => {
    const receiver = await SetReceiver.start();
    // Slow enough that the drain is still under way when the replica is killed.
    receiver.behave = () => ({ status: 202, delayMs: 50 });
    try {
      const a = await startReplica(true);
      const b = await startReplica(false);
      await admin(a, 'PUT', '/admin/clients/app', { auth_method: 'client_secret_basic', secret: 'app-secret-value' });
      expect(
        (
          await admin(a, 'POST', '/admin/ssf/streams', {
            aud: 'rs',
            delivery: { method: 'urn:ietf:rfc:8935', endpoint_url: receiver.url },
            events_requested: [TOKEN_REVOKED],
          })
        ).status,
      ).toBe(201);
      const tokens = Array.from({ length: TOKENS }, () => newToken('at'));
      for (let i = 0; i < TOKENS; i += 5000) {
        const batch = tokens
          .slice(i, i + 5000)
          .map((token) => ({ token, token_type: 'access_token', client_id: 'app', grant_id: 'g', expires_at: '2030-01-01T00:00:00Z' }));
        expect((await admin(a, 'POST', '/admin/tokens', { tokens: batch })).status).toBe(201);
      }

      await receiver.down();
      const downAt = Date.now();
      // Revocations on both replicas while the receiver refuses connections: 16 at a time.
      let next = 0;
      await Promise.all(
        Array.from({ length: 16 }, async () => {
          while (next < TOKENS) {
            const token = tokens[next];
            const on = next++ % 2 === 0 ? a : b;
            const response = await fetch(`${on.publicUrl}/token/revoke`, {
              method: 'POST',
              headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic('app', 'app-secret-value') },
              body: new URLSearchParams({ token }).toString(),
            });
            expect(response.status).toBe(200);
          }
        }),
      );
      const left = DOWN_S * 1000 - (Date.now() - downAt);
      if (left > 0) await new Promise((resolve) => setTimeout(resolve, left));
      expect(receiver.received).toHaveLength(0);

      await receiver.up();
      const upAt = Date.now();
      const expected = new Set(tokens.map((t) => createHash('sha256').update(t).digest('base64url')));
      while (new Set(receiver.received.map((s) => s.claims.sub_id.id)).size < TOKENS / 4) {
        if (Date.now() - upAt > 120_000) throw new Error(`only ${receiver.received.length} SETs within 120 s of the receiver coming back`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      const deliveredAtKill = new Set(receiver.received.map((s) => s.claims.sub_id.id)).size;
      a.child.kill('SIGKILL');
      await new Promise((resolve) => a.child.once('exit', resolve));
      const killedAt = Date.now();
      await startReplica(false);
      const restartedMs = Date.now() - killedAt;

      let allAt = 0;
      for (;;) {
        const ids = new Set(receiver.received.map((s) => s.claims.sub_id.id));
        if ([...expected].every((id) => ids.has(id))) {
          allAt = Date.now();
          break;
        }
        if (Date.now() - upAt > 180_000) throw new Error(`${ids.size} of ${TOKENS} tokens' SETs delivered within 180 s`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      const byJti = new Map<string, number>();
      for (const set of receiver.received) byJti.set(set.claims.jti, (byJti.get(set.claims.jti) ?? 0) + 1);
      const duplicates = [...byJti.values()].filter((n) => n > 1).length;

      // Every SET delivered; none ever in flight twice at once; only the killed replica's unsettled ones twice.
      expect(byJti.size).toBe(TOKENS);
      expect(receiver.maxConcurrentPerSet).toBe(1);
      expect(duplicates).toBeLessThanOrEqual(64);
      const report = {
        tokens: TOKENS,
        receiver_down_s: DOWN_S,
        delivered_when_killed: deliveredAtKill,
        restart_ms: restartedMs,
        all_delivered_s_after_receiver_back: (allAt - upAt) / 1000,
        sets_received: receiver.received.length,
        distinct_sets: byJti.size,
        delivered_twice: duplicates,
        max_in_flight_per_set: receiver.maxConcurrentPerSet,
      };
      if (process.env.RELIABILITY_REPORT) console.log(`event delivery: ${JSON.stringify(report)}`);
    } finally {
      await receiver.stop();
    }
  }, 600_000);
});
