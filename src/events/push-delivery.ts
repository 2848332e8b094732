import type { OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import type { Logger } from 'pino';
import type { Metrics } from '../metrics/metrics';
import type { SigningKeys } from '../signing/signing-keys';
import type { TokenCipher } from '../upstream/token-cipher';
import { retryDelay } from '../upstream/outbox';
import { signedSet } from './security-event-token';
import type { SetPusher } from './set-pusher';
import type { SetSignal } from './set-signal';
import type { PushTarget, Retry, SetStore, Settled } from './set-store';

/** SETs one stream has in flight at once, per replica. */
export const PUSH_BATCH = 64;
/** How often each replica looks at the push streams and their due SETs, whatever it hears. */
export const LOOK_EVERY_MS = 1000;
/** The soonest a notification naming an unknown stream makes this replica look at the streams again. */
const LOOK_SOON_MS = 250;
/** While a receiver fails every delivery, it is probed with one SET at most this far apart. */
const PROBE_AT_MOST_MS = 5000;

export interface PushDeliveryOptions {
  readonly timeoutMs: number;
  /** Opens a stream's sealed credential; absent without TOKEN_ENCRYPTION_KEY. */
  readonly cipher?: TokenCipher;
  readonly sealedFor: (streamId: string) => string;
}

/**
 * docs/api.md §12.4: every replica delivers the push streams' SETs, one pump per enabled stream,
 * so a slow or failing receiver holds up only its own stream. A pump claims a batch (leased, so
 * no SET is ever in flight twice, across replicas and restarts), signs what was never signed,
 * pushes each, and settles the batch in a statement per outcome: delivered or rejected rows go,
 * the others come back after their backoff (src/upstream/outbox.ts: first retry within a second,
 * at most 5 minutes apart). It runs again at once while there is more, when the database says a
 * stream has new SETs (src/events/set-signal.ts), and every second.
 *
 * A receiver that fails a whole batch is in an outage: until a delivery succeeds, its pump sends
 * one SET at a time, at most PROBE_AT_MOST_MS apart, instead of every pending SET on its own
 * backoff. The first success ends it, and what waited is due at once.
 */
export class PushDelivery implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly pumps = new Map<string, StreamPump>();
  /** Pumps of streams gone, finishing their batch. */
  private readonly retiring = new Set<Promise<void>>();
  private lookedAt = 0;
  private timer?: NodeJS.Timeout;
  private looking?: Promise<void>;
  private stopping = false;
  private unsubscribe?: () => void;

  constructor(
    private readonly store: SetStore,
    private readonly pusher: SetPusher,
    private readonly keys: SigningKeys,
    private readonly signal: SetSignal,
    private readonly metrics: Metrics,
    private readonly logger: Logger,
    private readonly options: PushDeliveryOptions,
  ) {}

  onApplicationBootstrap(): void {
    this.unsubscribe = this.signal.onWake((streams) => {
      if (streams === 'all') return this.look();
      for (const id of streams) {
        const pump = this.pumps.get(id);
        if (pump) pump.kick();
        // A stream without a pump here: a push stream made or resumed elsewhere, or (mostly) a
        // poll stream; looked for at most every LOOK_SOON_MS, and every second anyway.
        else if (Date.now() - this.lookedAt > LOOK_SOON_MS) this.look();
      }
    });
    this.timer = setInterval(() => this.look(), LOOK_EVERY_MS);
    this.look();
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopping = true;
    this.unsubscribe?.();
    clearInterval(this.timer);
    await this.looking;
    await Promise.all([...this.pumps.values()].map((pump) => pump.stop()));
    await Promise.all(this.retiring);
    await this.pusher.close();
  }

  /** Starts a pump for every enabled push stream, stops those of streams gone, and kicks the rest. */
  private look(): void {
    if (this.looking || this.stopping) return;
    this.lookedAt = Date.now();
    this.looking = this.store
      .pushStreams()
      .then(
        (ids) => {
          const enabled = new Set(ids);
          for (const [id, pump] of this.pumps) {
            if (enabled.has(id)) continue;
            // Not awaited: a batch in flight to a slow receiver must not hold up the other streams.
            this.pumps.delete(id);
            const stopped: Promise<void> = pump.stop().finally(() => this.retiring.delete(stopped));
            this.retiring.add(stopped);
          }
          if (this.stopping) return;
          for (const id of enabled) {
            let pump = this.pumps.get(id);
            if (!pump) this.pumps.set(id, (pump = new StreamPump(id, this)));
            pump.kick();
          }
        },
        // The database is away: the next look tries again; /health/ready reports the outage.
        (error: Error) => this.logger.warn({ err: { message: error.message } }, 'push streams unreadable'),
      )
      .finally(() => (this.looking = undefined));
  }

  /** One batch of a stream: claimed, pushed, settled. Answers how many were claimed and whether the receiver failed all of them. */
  async deliverBatch(streamId: string, limit: number, probe: boolean): Promise<{ claimed: number; allFailed: boolean }> {
    const leaseMs = this.options.timeoutMs + 5000;
    const { target, sets } = await this.store.claim(streamId, limit, leaseMs, probe);
    if (!target || sets.length === 0) return { claimed: 0, allFailed: false };
    const authorization = this.credential(target);
    // Signed first: the deadline is the receiver's alone.
    const signed = authorization === null ? [] : await Promise.all(sets.map((set) => signedSet(this.keys, target, set)));
    const deadline = this.pusher.deadline(sets.length);
    const outcomes = await Promise.all(sets.map((set, i) => this.deliverOne(target, signed[i], authorization, deadline)));
    const delivered: Settled[] = [];
    const rejected: Settled[] = [];
    const retries: Retry[] = [];
    const failures = new Map<string, number>();
    for (const [i, outcome] of outcomes.entries()) {
      const set = sets[i];
      if (outcome.kind === 'retry') {
        retries.push({ id: set.id, attempts: set.attempts, delayMs: retryDelay(set.attempts), signed: outcome.signed ?? null });
        failures.set(outcome.reason, (failures.get(outcome.reason) ?? 0) + 1);
      } else if (outcome.kind === 'rejected') {
        rejected.push(set);
        // RFC 8935 §2.3: the receiver will not take it; it is dropped, and said so once per SET.
        this.logger.warn({ stream_id: streamId, jti: set.jti, status: outcome.status, err: outcome.err }, 'security event token rejected by its receiver');
      } else {
        delivered.push(set);
      }
    }
    for (const lag of await this.store.settled(delivered)) this.metrics.setDeliveryLag.observe(lag);
    await this.store.settled(rejected);
    await this.store.retry(retries);
    this.metrics.setDeliveries.inc({ method: 'push', outcome: 'delivered' }, delivered.length);
    if (rejected.length > 0) this.metrics.setDeliveries.inc({ method: 'push', outcome: 'rejected' }, rejected.length);
    if (retries.length > 0) this.metrics.setDeliveries.inc({ method: 'push', outcome: 'retried' }, retries.length);
    if (failures.size > 0) {
      this.logger.warn(
        { stream_id: streamId, failed: retries.length, of: sets.length, reasons: Object.fromEntries(failures) },
        'security event tokens not delivered: tried again later',
      );
    }
    return { claimed: sets.length, allFailed: retries.length === sets.length };
  }

  catchUp(streamId: string): Promise<void> {
    return this.store.catchUp(streamId);
  }

  get stopped(): boolean {
    return this.stopping;
  }

  warn(streamId: string, error: Error): void {
    this.logger.warn({ stream_id: streamId, err: { message: error.message } }, 'push delivery round failed');
  }

  private credential(target: PushTarget): string | undefined | null {
    if (target.sealedAuthorization === null) return undefined;
    if (!this.options.cipher) return null;
    try {
      return this.options.cipher.open(target.sealedAuthorization, this.options.sealedFor(target.streamId));
    } catch {
      return null;
    }
  }

  private async deliverOne(
    target: PushTarget,
    signed: string | undefined,
    authorization: string | undefined | null,
    deadline: AbortSignal,
  ): Promise<{ kind: 'delivered' } | { kind: 'rejected'; status: number; err?: string } | { kind: 'retry'; reason: string; signed?: string }> {
    // A credential that cannot be opened (TOKEN_ENCRYPTION_KEY gone or changed) is never replaced by none.
    if (authorization === null || signed === undefined) return { kind: 'retry', reason: 'the stream credential cannot be opened with TOKEN_ENCRYPTION_KEY' };
    const outcome = await this.pusher.push(target.endpointUrl, signed, authorization, deadline);
    return outcome.kind === 'retry' ? { ...outcome, signed } : outcome;
  }
}

/**
 * One stream's deliveries on this replica: one batch at a time; a kick while a batch runs makes
 * it run again after.
 */
class StreamPump {
  private running?: Promise<void>;
  private again = false;
  private halted = false;
  /** Whole batches failed in a row (an outage when > 0), and when the next probe may go. */
  private outage = 0;
  private probeAt = 0;
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly streamId: string,
    private readonly delivery: PushDelivery,
  ) {}

  kick(): void {
    if (this.halted) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.run().finally(() => (this.running = undefined));
  }

  async stop(): Promise<void> {
    this.halted = true;
    clearTimeout(this.timer);
    await this.running;
  }

  private async run(): Promise<void> {
    do {
      this.again = false;
      if (this.halted || this.delivery.stopped) return;
      const wait = this.probeAt - Date.now();
      if (this.outage > 0 && wait > 0) {
        clearTimeout(this.timer);
        this.timer = setTimeout(() => this.kick(), wait);
        this.timer.unref();
        return;
      }
      try {
        const probing = this.outage > 0;
        const { claimed, allFailed } = await this.delivery.deliverBatch(this.streamId, probing ? 1 : PUSH_BATCH, probing);
        if (claimed === 0) continue;
        if (allFailed) {
          this.outage++;
          this.probeAt = Date.now() + Math.min(PROBE_AT_MOST_MS, retryDelay(this.outage));
        } else {
          // The receiver answers again (a 2xx or a rejection): what waited on its backoff goes now.
          if (this.outage > 0) await this.delivery.catchUp(this.streamId);
          this.outage = 0;
        }
        // A full batch, or one that ended an outage: there may be more at once.
        if (!allFailed) this.again = true;
      } catch (error) {
        this.delivery.warn(this.streamId, error as Error);
        return;
      }
    } while (this.again);
  }
}
