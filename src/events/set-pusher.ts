import { setMaxListeners } from 'node:events';
import { Agent, request } from 'undici';
import { readBoundedText } from '../upstream/upstream-client';
import { RECEIVER_ERROR_CODE } from './stream-request';

/** What a receiver's answer to one push means (docs/api.md §12.4). */
export type PushOutcome =
  | { readonly kind: 'delivered' }
  /** A 4xx other than 408 and 429: not retried. `err` is the RFC 8935 §2.3 error code, when it gave a plausible one. */
  | { readonly kind: 'rejected'; readonly status: number; readonly err?: string }
  | { readonly kind: 'retry'; readonly reason: string };

/** A receiver's answer is a status and at most a small JSON error; anything longer is not read. */
const MAX_ANSWER_BYTES = 16 * 1024;

/**
 * RFC 8935 §2: one SET per `POST`, `Content-Type: application/secevent+jwt`, `Accept:
 * application/json`, the stream's credential as `Authorization` when it has one, within
 * SSF_PUSH_TIMEOUT_MS from connect to last byte. Redirects are not followed (a 3xx is retried
 * like any answer that is neither a 2xx nor a rejection).
 */
export class SetPusher {
  private readonly agent: Agent;

  constructor(private readonly timeoutMs: number) {
    this.agent = new Agent({ connect: { timeout: timeoutMs }, headersTimeout: timeoutMs, bodyTimeout: timeoutMs, connections: 64 });
  }

  /** A new deadline of SSF_PUSH_TIMEOUT_MS: one per batch, shared by the pushes sent together (one timer, not 64). */
  deadline(pushes: number): AbortSignal {
    const signal = AbortSignal.timeout(this.timeoutMs);
    // undici listens on it once per request.
    setMaxListeners(pushes + 1, signal);
    return signal;
  }

  async push(endpointUrl: string, set: string, authorization: string | undefined, signal: AbortSignal): Promise<PushOutcome> {
    try {
      const response = await request(endpointUrl, {
        method: 'POST',
        dispatcher: this.agent,
        signal,
        headers: { 'content-type': 'application/secevent+jwt', accept: 'application/json', ...(authorization ? { authorization } : {}) },
        body: set,
      });
      const status = response.statusCode;
      const body = (await readBoundedText(response.body, MAX_ANSWER_BYTES)) ?? '';
      // RFC 8935 §2.2: "202 Accepted"; any 2xx is taken as delivered.
      if (status >= 200 && status < 300) return { kind: 'delivered' };
      // RFC 8935 §2.3: a 400 with an error code says the SET will never be accepted; so does any
      // other 4xx, except a timeout (408) and a request to slow down (429).
      if (status >= 400 && status < 500 && status !== 408 && status !== 429) return { kind: 'rejected', status, ...errorCode(body) };
      return { kind: 'retry', reason: `answered ${status}` };
    } catch (error) {
      const { code, name } = error as { code?: string; name?: string };
      if (signal.aborted || name === 'TimeoutError') return { kind: 'retry', reason: `no answer within ${this.timeoutMs} ms` };
      return { kind: 'retry', reason: `connection failed (${code ?? name ?? 'error'})` };
    }
  }

  close(): Promise<void> {
    return this.agent.destroy();
  }
}

/** The `err` of an RFC 8935 §2.3 error body, when it is one of the shape codes have; the description is never kept (it is the receiver's text). */
function errorCode(body: string): { err?: string } {
  try {
    const { err } = JSON.parse(body) as { err?: unknown };
    return typeof err === 'string' && RECEIVER_ERROR_CODE.test(err) ? { err } : {};
  } catch {
    return {};
  }
}
