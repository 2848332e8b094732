import { Counter, Gauge, Registry } from 'prom-client';
import type { UpstreamOutcome } from '../upstream/upstream-outcome';

/**
 * The gateway's Prometheus metrics (CONTRACT §10), one registry per gateway so that two gateways
 * in one process (tests, replicas) never share counters. Every metric is declared here, at start,
 * so its `# TYPE` line is on /metrics before the first sample. Labels take a closed set of values:
 * no client id, token or address ever becomes a label.
 */
export class Metrics {
  readonly registry = new Registry();

  readonly throttled = new Counter({
    name: 'revgw_throttled_requests_total',
    help: 'Requests refused with 429, by budget.',
    labelNames: ['scope'] as const,
    registers: [this.registry],
  });

  readonly upstreamRequests = new Counter({
    name: 'revgw_upstream_requests_total',
    help: 'Revocations sent to the upstream authorization server (or refused by the open circuit), by outcome.',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });

  readonly outboxDeadLetters = new Counter({
    name: 'revgw_outbox_dead_letters_total',
    help: 'Outbox rows given up after UPSTREAM_OUTBOX_MAX_ATTEMPTS deliveries.',
    registers: [this.registry],
  });

  /** Filled at scrape time by whoever owns the outbox (see `observeOutbox`). */
  private outboxCounts?: () => Promise<{ pending: number; dead: number }>;

  readonly outboxPending: Gauge = new Gauge({
    name: 'revgw_outbox_pending',
    help: 'Revocations waiting in the outbox for delivery upstream (dead letters excluded).',
    registers: [this.registry],
    collect: () => this.collectOutbox('pending', this.outboxPending),
  });

  readonly outboxDead: Gauge = new Gauge({
    name: 'revgw_outbox_dead',
    help: 'Dead-lettered outbox rows waiting for an operator.',
    registers: [this.registry],
    collect: () => this.collectOutbox('dead', this.outboxDead),
  });

  constructor() {
    for (const scope of ['ip', 'client']) this.throttled.inc({ scope }, 0);
    for (const outcome of UPSTREAM_OUTCOMES) this.upstreamRequests.inc({ outcome }, 0);
  }

  observeOutbox(counts: () => Promise<{ pending: number; dead: number }>): void {
    this.outboxCounts = counts;
  }

  /** One small query per gauge and scrape, so each value is current when it is read. */
  private async collectOutbox(which: 'pending' | 'dead', gauge: Gauge): Promise<void> {
    if (!this.outboxCounts) return gauge.set(0);
    try {
      gauge.set((await this.outboxCounts())[which]);
    } catch {
      // The database is away: keep the last value; /health/ready reports the outage.
    }
  }
}

export const UPSTREAM_OUTCOMES: readonly UpstreamOutcome[] = [
  'delivered',
  'timeout',
  'throttled',
  'unavailable',
  'connection_error',
  'server_error',
  'unexpected_response',
  'circuit_open',
];
