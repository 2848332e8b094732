import { createHash, timingSafeEqual } from 'node:crypto';
import { Body, Controller, Headers, HttpCode, Inject, Param, Post, type BeforeApplicationShutdown } from '@nestjs/common';
import type { Logger } from 'pino';
import { bearerToken } from '../authz/bearer';
import { ROOT_LOGGER } from '../core.module';
import { Metrics } from '../metrics/metrics';
import { POLL_ROUTE, type JsonText } from '../protocol/http-hooks';
import { ProtocolError } from '../protocol/protocol-error';
import { SigningKeys } from '../signing/signing-keys';
import { pollRequest, type PollRequest } from './poll-request';
import { signedSet } from './security-event-token';
import { SetSignal } from './set-signal';
import { SetStore } from './set-store';
import { POLL, RECEIVER_ERROR_CODE, UUID } from './stream-request';
import { StreamStore, type PollTarget } from './stream-store';

/** docs/api.md §12.5: the longest a poll waits for a first SET. */
export const LONG_POLL_MS = 30_000;

/**
 * RFC 8936 poll delivery (docs/api.md §12.5), on the public port: the receiver's acknowledgements
 * first (acknowledged SETs are gone), then up to `maxEvents` of the oldest SETs left, or — unless
 * `returnImmediately` — a wait of up to 30 s for a first one, woken by the database's
 * notification (src/events/set-signal.ts) rather than a sleep loop. A SET not acknowledged comes
 * again, with the same signature. A paused or disabled stream gives none.
 */
@Controller()
export class PollController implements BeforeApplicationShutdown {
  private closing = false;

  constructor(
    private readonly streams: StreamStore,
    private readonly sets: SetStore,
    private readonly signal: SetSignal,
    private readonly keys: SigningKeys,
    private readonly metrics: Metrics,
    @Inject(ROOT_LOGGER) private readonly logger: Logger,
  ) {}

  /** Polls waiting answer at once with what they have: the server is closing. */
  beforeApplicationShutdown(): void {
    this.closing = true;
    this.signal.wake('all');
  }

  @Post(POLL_ROUTE)
  @HttpCode(200)
  async poll(@Param('stream_id') streamId: string, @Headers('authorization') authorization: string | undefined, @Body() body: JsonText | undefined) {
    const stream = UUID.test(streamId) ? await this.streams.pollTarget(streamId) : undefined;
    if (!stream) throw ProtocolError.notFound('no such stream');
    // docs/api.md §12.5: a push stream is a 400 whatever the token.
    if (stream.method !== POLL) throw ProtocolError.invalidRequest('this stream is delivered by push, not polled');
    if (!tokenMatches(bearerToken(authorization), stream.pollTokenHash)) {
      // RFC 6750 §3.1.
      throw new ProtocolError('invalid_token', "the stream's poll token is required", { headers: { 'www-authenticate': 'Bearer error="invalid_token"' } });
    }
    const request = pollRequest(body);
    await this.acknowledge(streamId, request);
    const deadline = Date.now() + (request.returnImmediately ? 0 : LONG_POLL_MS);
    let current: PollTarget | undefined = stream;
    for (;;) {
      // Armed before looking: a SET committed after the look wakes the wait.
      const armed = this.signal.arm(streamId);
      try {
        const rows = current?.status === 'enabled' ? await this.sets.poll(streamId, Math.max(request.maxEvents, 1) + 1) : [];
        const left = deadline - Date.now();
        if (rows.length > 0 || left <= 0 || this.closing || request.maxEvents === 0) return await this.answer(stream, rows, request.maxEvents);
        await armed.wait(left);
      } finally {
        armed.cancel();
      }
      // Its status may have changed while waiting (resumed, paused, deleted).
      current = await this.streams.pollTarget(streamId);
    }
  }

  private async acknowledge(streamId: string, request: PollRequest): Promise<void> {
    const acknowledged = await this.sets.acknowledged(streamId, request.ack);
    const failed = await this.sets.acknowledged(
      streamId,
      request.setErrs.map((e) => e.jti),
    );
    for (const lag of acknowledged) this.metrics.setDeliveryLag.observe(lag);
    if (acknowledged.length > 0) this.metrics.setDeliveries.inc({ method: 'poll', outcome: 'acknowledged' }, acknowledged.length);
    if (failed.length > 0) this.metrics.setDeliveries.inc({ method: 'poll', outcome: 'error' }, failed.length);
    if (request.setErrs.length > 0) {
      // One line per poll, counted by the receiver's codes (only those shaped like one; never its descriptions).
      const byCode: Record<string, number> = {};
      for (const { err } of request.setErrs) {
        const code = RECEIVER_ERROR_CODE.test(err) ? err : 'unrecognised';
        byCode[code] = (byCode[code] ?? 0) + 1;
      }
      this.logger.warn({ stream_id: streamId, errors: byCode, first_jti: request.setErrs[0].jti }, 'security event tokens reported in error by their receiver');
    }
  }

  private async answer(stream: PollTarget, rows: Awaited<ReturnType<SetStore['poll']>>, maxEvents: number) {
    const given = rows.slice(0, maxEvents);
    const signed = await Promise.all(given.map(async (set) => ({ set, jws: await signedSet(this.keys, stream, set) })));
    // Signed once: the next poll gives the same bytes for the same jti.
    const kept = await this.sets.keepSigned(signed.filter(({ set }) => set.signed === null).map(({ set, jws }) => ({ id: set.id, signed: jws })));
    return { sets: Object.fromEntries(signed.map(({ set, jws }) => [set.jti, kept.get(set.id) ?? jws])), moreAvailable: rows.length > given.length };
  }
}

function tokenMatches(token: string | undefined, expected: Buffer | null): boolean {
  if (token === undefined || expected === null) return false;
  return timingSafeEqual(createHash('sha256').update(token).digest(), expected);
}
