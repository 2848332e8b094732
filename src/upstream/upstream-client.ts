import { Agent, request } from 'undici';
import type { RevocationLevel } from '../revocation/levels';
import type { TokenType } from '../revocation/token-types';
import type { UpstreamConfig } from '../config/config';
import { readUpstreamAnswer, UpstreamFailure } from './upstream-outcome';

/** One revocation to forward: the token the client presented, never its cascade (the upstream cascades itself). */
export interface Delivery {
  readonly token: string;
  /** The type the gateway knows, or the client's hint; null when neither says. */
  readonly tokenType: TokenType | null;
  /** The level the request asked for; the `oam` dialect forwards it. */
  readonly level: RevocationLevel | null;
  readonly interactionId: string;
}

/** An upstream answer is a status and at most a small JSON document; anything longer is not one. */
const MAX_ANSWER_BYTES = 64 * 1024;
const TIMEOUT_CODES = new Set(['UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']);
const OAM_HINTS: Record<TokenType, string> = { access_token: 'ACCESS_TOKEN', refresh_token: 'REFRESH_TOKEN' };

/**
 * The upstream authorization server's revocation endpoint (docs/api.md §6), spoken in its dialect,
 * authenticated as the gateway, with the caller's interaction id, within UPSTREAM_TIMEOUT_MS from
 * connect to last byte. Never retries by itself: the outbox decides when to try again.
 */
export class UpstreamClient {
  private readonly agent: Agent;
  private readonly authorization?: string;

  constructor(private readonly config: UpstreamConfig) {
    const timeout = config.timeoutMs;
    this.agent = new Agent({ connect: { timeout }, headersTimeout: timeout, bodyTimeout: timeout, connections: 64 });
    // RFC 6749 §2.3.1: id and secret are form-encoded, then joined by a colon, for HTTP Basic.
    if (config.clientId && config.clientSecret) {
      this.authorization = `Basic ${Buffer.from(`${formEncode(config.clientId)}:${formEncode(config.clientSecret)}`).toString('base64')}`;
    }
  }

  async revoke(delivery: Delivery): Promise<void> {
    const headers = { 'x-fapi-interaction-id': delivery.interactionId, ...(this.authorization ? { authorization: this.authorization } : {}) };
    const { status, body } = await postForm(this.config.url, this.agent, this.config.timeoutMs, headers, this.form(delivery));
    readUpstreamAnswer(this.config.dialect, status, body);
  }

  close(): Promise<void> {
    return this.agent.destroy();
  }

  private form(delivery: Delivery): string {
    const form = new URLSearchParams({ token: delivery.token });
    if (this.config.dialect === 'oam') {
      form.set('token_type_hint', delivery.tokenType ? OAM_HINTS[delivery.tokenType] : 'NONE');
      if (delivery.level) form.set('revocation_level', delivery.level);
    } else if (delivery.tokenType) {
      form.set('token_type_hint', delivery.tokenType);
    }
    // A public upstream client identifies itself in the body (RFC 7009 §2.1).
    if (this.config.clientId && !this.config.clientSecret) form.set('client_id', this.config.clientId);
    return form.toString();
  }
}

/**
 * One form POST to the upstream, answered with JSON: its status and its body (bounded), within
 * `timeoutMs` from connect to last byte; a failure to get them is an UpstreamFailure (timeout or
 * connection error). Shared by propagation and the introspection overlay.
 */
export async function postForm(
  url: string,
  agent: Agent,
  timeoutMs: number,
  headers: Record<string, string>,
  form: string,
): Promise<{ status: number; body: string }> {
  const signal = AbortSignal.timeout(timeoutMs);
  try {
    const response = await request(url, {
      method: 'POST',
      dispatcher: agent,
      signal,
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json', ...headers },
      body: form,
    });
    return { status: response.statusCode, body: await readBounded(response.body) };
  } catch (error) {
    throw failureOf(error, signal);
  }
}

/** A valid application/x-www-form-urlencoded encoding that leaves plain ids (A-Z a-z 0-9 - _ . ~) as they are. */
export function formEncode(value: string): string {
  return encodeURIComponent(value).replace(/%20/g, '+');
}

/** A response body as text, or undefined (and the body dropped) once it passes `maxBytes`. */
export async function readBoundedText(body: AsyncIterable<Buffer> & { destroy(): void }, maxBytes: number): Promise<string | undefined> {
  const chunks: Buffer[] = [];
  let length = 0;
  for await (const chunk of body) {
    length += chunk.length;
    if (length > maxBytes) {
      body.destroy();
      return undefined;
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

async function readBounded(body: AsyncIterable<Buffer> & { destroy(): void }): Promise<string> {
  const text = await readBoundedText(body, MAX_ANSWER_BYTES);
  if (text === undefined) throw new UpstreamFailure('unexpected_response', `upstream answer longer than ${MAX_ANSWER_BYTES} bytes`);
  return text;
}

function failureOf(error: unknown, signal: AbortSignal): UpstreamFailure {
  if (error instanceof UpstreamFailure) return error;
  const { code, name, message } = error as { code?: string; name?: string; message?: string };
  if (signal.aborted || name === 'TimeoutError' || (code && TIMEOUT_CODES.has(code))) {
    return new UpstreamFailure('timeout', `upstream did not answer in time (${code ?? name})`);
  }
  return new UpstreamFailure('connection_error', `upstream connection failed (${code ?? name}: ${message})`);
}
