import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { Body, Controller, Delete, Get, HttpCode, Inject, Param, Patch, Post, Query, Req } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { requestContext } from '../protocol/request-context';
import { SetSignal } from './set-signal';
import type { AppConfig } from '../config/config';
import { APP_CONFIG } from '../core.module';
import { ProtocolError } from '../protocol/protocol-error';
import { TenantRegistry } from '../tenancy/tenant-registry';
import { TokenCipher } from '../upstream/token-cipher';
import { EVENTS_SUPPORTED, eventsDelivered, POLL, PUSH, statusRequest, streamChange, streamRequest, UUID, verificationRequest } from './stream-request';
import { StreamStore, type StreamRow } from './stream-store';

/** docs/api.md §12.5: where a poll stream's receiver asks, on the public port. */
export const POLL_PATH = '/ssf/poll';
/** The additional data of a sealed receiver credential: its purpose and its stream. */
export const SEALED_FOR = 'ssf-stream-authorization:';

/**
 * docs/api.md §12.2: the event streams, in the admin API. A receiver's credential is sealed under
 * TOKEN_ENCRYPTION_KEY (its purpose and the stream id as additional data) and never shown again; a poll token is
 * shown once, in the 201, and kept as its SHA-256 hash.
 */
@Controller('admin/ssf/streams')
export class StreamsController {
  private readonly cipher?: TokenCipher;

  constructor(
    private readonly streams: StreamStore,
    private readonly tenants: TenantRegistry,
    private readonly signal: SetSignal,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    this.cipher = config.encryption ? new TokenCipher(config.encryption.key, config.encryption.previous) : undefined;
  }

  @Post()
  @HttpCode(201)
  async create(@Body() body: unknown) {
    const request = streamRequest(body);
    const issuer = await this.tenants.issuerOf(request.tenant);
    if (issuer === undefined) throw ProtocolError.invalidRequest(`unknown tenant ${request.tenant}`);
    const streamId = randomUUID();
    const pollToken = request.method === POLL ? randomBytes(32).toString('base64url') : undefined;
    const row = await this.streams.create({
      streamId,
      tenant: request.tenant,
      // SSF 1.0 §8.1.1: `iss` is fixed when the stream is made: the tenant's issuer, else ISSUER.
      iss: issuer ?? this.config.issuer,
      aud: request.aud,
      method: request.method,
      endpointUrl: request.endpointUrl ?? null,
      sealedAuthorization: request.authorizationHeader === undefined ? null : this.seal(request.authorizationHeader, streamId),
      pollTokenHash: pollToken === undefined ? null : createHash('sha256').update(pollToken).digest(),
      eventsRequested: request.eventsRequested,
      description: request.description ?? null,
    });
    return { ...this.configuration(row), ...(pollToken ? { poll_token: pollToken } : {}) };
  }

  @Get()
  async list(@Query('stream_id') streamId?: string) {
    if (streamId !== undefined) return this.configuration(await this.found(streamId));
    return { streams: (await this.streams.list()).map((row) => this.configuration(row)) };
  }

  @Patch(':stream_id')
  async update(@Param('stream_id') streamId: string, @Body() body: unknown) {
    const stream = await this.found(streamId);
    const change = streamChange(body, stream.method);
    // A receiver's credential is for its endpoint: moving the endpoint to another origin without
    // saying what becomes of the credential would send it to whoever answers there.
    if (change.endpointUrl !== undefined && change.authorizationHeader === undefined && stream.sealedAuthorization !== null) {
      if (new URL(change.endpointUrl).origin !== new URL(stream.endpointUrl!).origin) {
        throw ProtocolError.invalidRequest('delivery.endpoint_url moves to another origin: give delivery.authorization_header again (or null)');
      }
    }
    const sealed =
      change.authorizationHeader === undefined ? undefined : change.authorizationHeader === null ? null : this.seal(change.authorizationHeader, streamId);
    const row = await this.streams.update(streamId, { ...change, sealedAuthorization: sealed });
    if (!row) throw ProtocolError.notFound('no such stream');
    return this.configuration(row);
  }

  /** Its SETs not yet delivered go with it (docs/api.md §12.2). */
  @Delete(':stream_id')
  @HttpCode(204)
  async remove(@Param('stream_id') streamId: string): Promise<void> {
    if (!UUID.test(streamId) || !(await this.streams.delete(streamId))) throw ProtocolError.notFound('no such stream');
  }

  @Post(':stream_id/status')
  @HttpCode(200)
  async setStatus(@Param('stream_id') streamId: string, @Body() body: unknown) {
    await this.found(streamId);
    const { status, reason } = statusRequest(body);
    const row = await this.streams.setStatus(streamId, status, reason ?? null);
    if (!row) throw ProtocolError.notFound('no such stream');
    // Resumed: its pump and its polls here look at once (other replicas hear the trigger).
    this.signal.wake([streamId]);
    return { stream_id: row.streamId, status: row.status, ...(row.reason !== null ? { reason: row.reason } : {}) };
  }

  /**
   * SSF 1.0 §8.1.4.2: a verification event, delivered like any other (a paused stream's when it
   * resumes; a disabled stream makes none), `txn` this request's interaction id.
   */
  @Post(':stream_id/verify')
  @HttpCode(204)
  async verify(@Param('stream_id') streamId: string, @Body() body: unknown, @Req() request: FastifyRequest): Promise<void> {
    await this.found(streamId);
    const { state } = verificationRequest(body);
    if (await this.streams.verify(streamId, state ?? null, requestContext(request.raw)!.interactionId)) this.signal.wake([streamId]);
  }

  private async found(streamId: string): Promise<StreamRow> {
    const row = UUID.test(streamId) ? await this.streams.get(streamId) : undefined;
    if (!row) throw ProtocolError.notFound('no such stream');
    return row;
  }

  private seal(credential: string, streamId: string): Buffer {
    if (!this.cipher) throw ProtocolError.invalidRequest('delivery.authorization_header needs TOKEN_ENCRYPTION_KEY: a receiver credential is kept encrypted');
    // The purpose in the additional data: nothing sealed for another use (an outbox token, under its tenant) opens as a credential.
    return this.cipher.seal(credential, `${SEALED_FOR}${streamId}`);
  }

  /** SSF 1.0 §8.1.1 stream configuration; the credential only as whether one is set. */
  private configuration(row: StreamRow) {
    const delivery =
      row.method === PUSH
        ? { method: PUSH, endpoint_url: row.endpointUrl, authorization_header_set: row.sealedAuthorization !== null }
        : { method: POLL, endpoint_url: `${this.config.issuer}${POLL_PATH}/${row.streamId}` };
    return {
      stream_id: row.streamId,
      iss: row.iss,
      aud: row.aud,
      delivery,
      events_supported: EVENTS_SUPPORTED,
      events_requested: row.eventsRequested,
      events_delivered: eventsDelivered(row.eventsRequested),
      ...(row.description !== null ? { description: row.description } : {}),
      status: row.status,
    };
  }
}
