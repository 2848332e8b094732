import { ProtocolError } from '../protocol/protocol-error';

/** docs/api.md §12: the delivery methods (RFC 8935 push, RFC 8936 poll). */
/** A stream id or a jti: what the gateway makes (randomUUID, gen_random_uuid), lower-case. */
export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
/** The shape of an RFC 8935 §2.3 / RFC 8936 error code: only such a receiver-supplied value is logged. */
export const RECEIVER_ERROR_CODE = /^[a-z_]{1,64}$/;
export const PUSH = 'urn:ietf:rfc:8935';
export const POLL = 'urn:ietf:rfc:8936';
export type DeliveryMethod = typeof PUSH | typeof POLL;

/** docs/api.md §12.3: the events the transmitter makes. */
export const TOKEN_REVOKED = 'https://schemas.openid.net/secevent/oauth/event-type/token-revoked';
export const SESSION_REVOKED = 'https://schemas.openid.net/secevent/caep/event-type/session-revoked';
export const EVENTS_SUPPORTED: readonly string[] = [TOKEN_REVOKED, SESSION_REVOKED];

export const STREAM_STATUSES = ['enabled', 'paused', 'disabled'] as const;
export type StreamStatus = (typeof STREAM_STATUSES)[number];

/** A stream as the admin asks for it (docs/api.md §12.2), checked. */
export interface StreamRequest {
  readonly tenant: string;
  readonly aud: string | readonly string[];
  readonly method: DeliveryMethod;
  readonly endpointUrl?: string;
  readonly authorizationHeader?: string;
  readonly eventsRequested: readonly string[];
  readonly description?: string;
}

/** What a PATCH changes (docs/api.md §12.2); `authorizationHeader: null` removes the credential. */
export interface StreamChange {
  readonly aud?: string | readonly string[];
  readonly eventsRequested?: readonly string[];
  readonly description?: string;
  readonly endpointUrl?: string;
  readonly authorizationHeader?: string | null;
}

const TENANT = /^[A-Za-z0-9._-]{1,64}$/;
const MAX_TEXT = 2048;
const MAX_EVENTS = 32;
/** A header value HTTP can carry: visible ASCII and inner spaces, no line break. */
const HEADER_VALUE = /^[\x21-\x7e]([\x20-\x7e]{0,4094}[\x21-\x7e])?$/;

const invalid = (description: string) => ProtocolError.invalidRequest(description);
const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);
const text = (value: unknown, name: string, max = MAX_TEXT): string => {
  if (typeof value !== 'string' || value === '' || value.length > max || value.includes('\u0000'))
    throw invalid(`${name} must be a string of 1-${max} characters`);
  return value;
};

/** RFC 8417 §2.2 `aud`: a string, or an array of at least one string. */
function audience(value: unknown): string | string[] {
  if (typeof value === 'string') return text(value, 'aud');
  if (!Array.isArray(value) || value.length === 0 || value.length > MAX_EVENTS) throw invalid('aud must be a string or an array of 1-32 strings');
  return value.map((member, i) => text(member, `aud[${i}]`));
}

function events(value: unknown): string[] {
  if (!Array.isArray(value) || value.length > MAX_EVENTS) throw invalid('events_requested must be an array of at most 32 event type URIs');
  return [...new Set(value.map((member, i) => text(member, `events_requested[${i}]`)))];
}

/** A receiver's endpoint: an absolute http(s) URL without credentials or fragment. */
function endpoint(value: unknown): string {
  const raw = text(value, 'delivery.endpoint_url');
  // The URL parser drops tabs, line breaks and edge spaces: the URL shown must be the one called.
  if (/[\s\x00-\x1f\x7f]/.test(raw)) throw invalid('delivery.endpoint_url must not contain spaces or control characters');
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw invalid('delivery.endpoint_url must be an absolute http or https URL');
  }
  if ((url.protocol !== 'https:' && url.protocol !== 'http:') || url.username || url.password || url.hash) {
    throw invalid('delivery.endpoint_url must be an http or https URL without credentials or fragment');
  }
  return raw;
}

function credential(value: unknown): string {
  if (typeof value !== 'string' || !HEADER_VALUE.test(value))
    throw invalid('delivery.authorization_header must be a header value (visible ASCII, at most 4096 characters)');
  return value;
}

/** `POST /admin/ssf/streams` (docs/api.md §12.2). */
export function streamRequest(body: unknown): StreamRequest {
  if (!isObject(body)) throw invalid('the body must be a JSON object');
  const tenant = body.tenant === undefined ? 'default' : body.tenant;
  if (typeof tenant !== 'string' || !TENANT.test(tenant)) throw invalid('tenant must match [A-Za-z0-9._-]{1,64}');
  if (!isObject(body.delivery)) throw invalid('delivery is required: {method, endpoint_url?, authorization_header?}');
  const { method, endpoint_url: endpointUrl, authorization_header: authorizationHeader } = body.delivery;
  if (method !== PUSH && method !== POLL) throw invalid(`delivery.method must be ${PUSH} (push) or ${POLL} (poll)`);
  if (method === PUSH && endpointUrl === undefined) throw invalid('delivery.endpoint_url is required for push delivery');
  // RFC 8936: the transmitter names the poll endpoint; a credential is the receiver's to present there, not ours to send.
  if (method === POLL && authorizationHeader !== undefined) throw invalid('delivery.authorization_header is for push delivery only');
  if (body.events_requested === undefined) throw invalid('events_requested is required');
  return {
    tenant,
    aud: audience(body.aud),
    method,
    ...(method === PUSH ? { endpointUrl: endpoint(endpointUrl) } : {}),
    ...(method === PUSH && authorizationHeader !== undefined ? { authorizationHeader: credential(authorizationHeader) } : {}),
    eventsRequested: events(body.events_requested),
    ...(body.description !== undefined ? { description: text(body.description, 'description', 1024) } : {}),
  };
}

/** `PATCH /admin/ssf/streams/{stream_id}` (docs/api.md §12.2): only the members named change. */
export function streamChange(body: unknown, method: DeliveryMethod): StreamChange {
  if (!isObject(body)) throw invalid('the body must be a JSON object');
  const delivery = body.delivery === undefined ? {} : body.delivery;
  if (!isObject(delivery)) throw invalid('delivery must be an object');
  if (delivery.method !== undefined && delivery.method !== method) throw invalid('delivery.method cannot change: make a new stream');
  if (method === POLL && (delivery.endpoint_url !== undefined || delivery.authorization_header !== undefined)) {
    throw invalid("a poll stream's endpoint is the transmitter's and takes no authorization_header");
  }
  return {
    ...(body.aud !== undefined ? { aud: audience(body.aud) } : {}),
    ...(body.events_requested !== undefined ? { eventsRequested: events(body.events_requested) } : {}),
    ...(body.description !== undefined ? { description: text(body.description, 'description', 1024) } : {}),
    ...(delivery.endpoint_url !== undefined ? { endpointUrl: endpoint(delivery.endpoint_url) } : {}),
    ...(delivery.authorization_header !== undefined
      ? { authorizationHeader: delivery.authorization_header === null ? null : credential(delivery.authorization_header) }
      : {}),
  };
}

/** `POST /admin/ssf/streams/{stream_id}/status` (docs/api.md §12.2). */
export function statusRequest(body: unknown): { status: StreamStatus; reason?: string } {
  if (!isObject(body) || !STREAM_STATUSES.includes(body.status as StreamStatus)) throw invalid('status must be enabled, paused or disabled');
  return { status: body.status as StreamStatus, ...(body.reason !== undefined ? { reason: text(body.reason, 'reason', 1024) } : {}) };
}

/** SSF 1.0 §8.1.4.2: a verification request's optional `state`, echoed in the verification event. */
export function verificationRequest(body: unknown): { state?: string } {
  if (body === undefined || body === null) return {};
  if (!isObject(body)) throw invalid('the body must be a JSON object');
  return body.state !== undefined ? { state: text(body.state, 'state', 1024) } : {};
}

/** SSF 1.0 §8.1.1: the events a stream gets are those it asked for that the transmitter makes. */
export function eventsDelivered(requested: readonly string[]): string[] {
  return requested.filter((event) => EVENTS_SUPPORTED.includes(event));
}
