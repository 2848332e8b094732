import { randomBytes } from 'node:crypto';
import { Client, type Notification } from 'pg';
import type { Logger } from 'pino';
import type { TokenStatusCache } from './token-status-cache';

export const STATUS_CHANNEL = 'revgw_token_status';

/** How often the listening connection proves it is alive, and how long an answer may take. */
const PING_EVERY_MS = 400;
const PING_TIMEOUT_MS = 400;
const RECONNECT_MS = { first: 100, max: 5000 };

/**
 * The change feed of docs/api.md §11.6: one connection per replica, outside the pool, listening
 * on `revgw_token_status` (migration 1795420000000 sends to it from the revoking transaction).
 * Each message makes the cache forget what it names.
 *
 * Every 400 ms the feed proves it still hears: it notifies a channel of its own and waits for the
 * echo. PostgreSQL delivers notifications in commit order, so the echo arriving means every
 * revocation committed before the ping has arrived too, and memory is at most ~0.8 s behind the
 * database. A `SELECT 1` would prove less: behind a transaction-pooling proxy (PgBouncer in
 * transaction mode) it is answered while no notification ever comes. When the echo is late, the
 * connection fails or cannot be made, the cache stops being trusted (every answer comes from the
 * database) until a new connection listens again.
 */
export class StatusFeed {
  private client?: Client;
  private timer?: NodeJS.Timeout;
  private retryMs = RECONNECT_MS.first;
  private stopped = false;
  /** Connections already given up: an `error` and an `end` of one connection reconnect once. */
  private readonly gone = new WeakSet<Client>();
  /** This replica's own channel for its pings, and the echo being waited for. */
  private readonly pingChannel = `revgw_feed_${randomBytes(8).toString('hex')}`;
  private awaitedEcho?: { payload: string; heard: () => void };
  /** Whether the last ping echoed (the cache is trusted only then, and only when it keeps entries). */
  private hearing = false;

  constructor(
    private readonly url: string,
    private readonly connectTimeoutMs: number,
    private readonly cache: TokenStatusCache,
    private readonly logger: Logger,
    private readonly onState: (up: boolean) => void = () => undefined,
    /** Other channels heard on the same connection, and what each message does (src/events/set-signal.ts). */
    private readonly channels: Readonly<Record<string, (payload: string) => void>> = {},
  ) {}

  /** Starts listening in the background; the cache is trusted only once the first LISTEN is done. */
  start(): void {
    void this.connect();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.drop();
  }

  private async connect(): Promise<void> {
    if (this.stopped) return;
    const client = new Client({
      connectionString: this.url,
      connectionTimeoutMillis: this.connectTimeoutMs,
      application_name: 'fapi-revocation-gateway status feed',
      keepAlive: true,
      // A ping's NOTIFY is a transaction of its own: with synchronous_commit on, its echo would wait
      // for a WAL flush, seconds under write load, and the feed would call itself lost while it
      // hears perfectly. Nothing this connection writes needs to survive a crash.
      options: '-c synchronous_commit=off',
    });
    client.on('error', (error) => this.lost(client, error));
    client.on('end', () => this.lost(client, new Error('connection ended')));
    client.on('notification', (message) => this.apply(message));
    try {
      await withTimeout(
        (async () => {
          await client.connect();
          await client.query(`LISTEN ${STATUS_CHANNEL}`);
          await client.query(`LISTEN ${this.pingChannel}`);
          for (const channel of Object.keys(this.channels)) await client.query(`LISTEN ${channel}`);
        })(),
        this.connectTimeoutMs * 2,
        'connecting and listening',
      );
    } catch (error) {
      this.lost(client, error);
      return;
    }
    // Failed meanwhile (an `error` or `end` while the LISTEN was under way): already given up.
    if (this.gone.has(client)) return;
    if (this.stopped) return void client.end().catch(() => undefined);
    this.client = client;
    // Memory is trusted once the first ping has echoed, not when LISTEN answered: behind a pooler
    // that forwards queries but not notifications (PgBouncer in transaction mode) LISTEN succeeds
    // and nothing is ever heard.
    void this.ping(client);
  }

  private schedulePing(client: Client): void {
    this.timer = setTimeout(() => void this.ping(client), PING_EVERY_MS);
    this.timer.unref();
  }

  private async ping(client: Client): Promise<void> {
    if (this.client !== client) return;
    const payload = randomBytes(8).toString('hex');
    const echoed = new Promise<void>((heard) => (this.awaitedEcho = { payload, heard }));
    try {
      await withTimeout(Promise.all([client.query('SELECT pg_notify($1, $2)', [this.pingChannel, payload]), echoed]), PING_TIMEOUT_MS, 'the echo of a ping');
      if (this.client !== client) return;
      if (!this.hearing) {
        this.hearing = true;
        // What was revoked while nobody listened is unknown: start from nothing.
        this.retryMs = RECONNECT_MS.first;
        this.cache.trusted = true;
        this.onState(true);
        this.logger.info('token status feed listening');
      }
      this.schedulePing(client);
    } catch (error) {
      this.lost(client, error);
    } finally {
      this.awaitedEcho = undefined;
    }
  }

  /** `tokens <tenant> <hex>,<hex>…`, `tenant <tenant>` or `rules <tenant>` (its JWTs); anything else forgets everything. */
  private apply(message: Notification): void {
    if (message.channel === this.pingChannel) {
      const awaited = this.awaitedEcho;
      if (awaited && message.payload === awaited.payload) awaited.heard();
      return;
    }
    const other = this.channels[message.channel];
    if (other) return other(message.payload ?? '');
    if (message.channel !== STATUS_CHANNEL) return;
    const [kind, tenant, hashes] = (message.payload ?? '').split(' ');
    if (kind === 'tokens' && tenant && hashes) {
      this.cache.forgetTokens(
        tenant,
        hashes.split(',').map((hex) => Buffer.from(hex, 'hex')),
      );
    } else if (kind === 'tenant' && tenant) {
      this.cache.forgetTenant(tenant);
    } else if (kind === 'rules' && tenant) {
      this.cache.forgetJwts(tenant);
    } else {
      this.cache.forgetAll();
    }
  }

  private lost(client: Client, error: unknown): void {
    if (this.gone.has(client)) return;
    this.gone.add(client);
    const wasUp = this.client === client && this.hearing;
    this.hearing = false;
    if (this.client === client) this.client = undefined;
    this.cache.trusted = false;
    if (wasUp) {
      this.onState(false);
      this.logger.warn({ err: { message: (error as Error).message } }, 'token status feed lost: answering from the database until it listens again');
    } else {
      this.logger.warn({ err: { message: (error as Error).message } }, 'token status feed cannot hear: answering from the database');
    }
    void client.end().catch(() => undefined);
    if (this.stopped) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.connect(), this.retryMs);
    this.timer.unref();
    this.retryMs = Math.min(this.retryMs * 2, RECONNECT_MS.max);
  }

  private async drop(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    await client?.end().catch(() => undefined);
  }
}

async function withTimeout<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      work,
      new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`no answer to ${what} within ${ms} ms`)), ms))),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
