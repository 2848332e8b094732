import { JsonText } from '../protocol/http-hooks';
import { jsonShapeProblem } from '../protocol/json-body';
import { ProtocolError } from '../protocol/protocol-error';
import { UUID } from './stream-request';

/** docs/api.md §12.5 (RFC 8936 §2.4): what one poll asks for and acknowledges. */
export interface PollRequest {
  readonly maxEvents: number;
  readonly returnImmediately: boolean;
  /** The jtis acknowledged, each a UUID (no other can be one of ours, so the rest are dropped here). */
  readonly ack: readonly string[];
  /** The SETs the receiver reports in error (RFC 8936 §2.4.3): acknowledged too, and logged by their code. */
  readonly setErrs: ReadonlyArray<{ readonly jti: string; readonly err: string }>;
}

export const DEFAULT_MAX_EVENTS = 100;
export const MAX_EVENTS = 1000;
/** The most jtis one poll may acknowledge or report, in `ack` and `setErrs` together: two polls' worth. */
export const MAX_ACKNOWLEDGED = 2 * MAX_EVENTS;

const refuse = (description: string) => ProtocolError.invalidRequest(description);

/**
 * Reads a poll's JSON body (absent: every default). `maxEvents` beyond 1000 is answered with at
 * most 1000 (RFC 8936 §2.4: the transmitter may return fewer); unknown members are ignored (RFC
 * 8936 §2.4 leaves room for extensions); a wrong type is a 400 naming the member.
 */
export function pollRequest(received: JsonText | undefined): PollRequest {
  return readPoll(received === undefined ? undefined : parsed(received.text));
}

/** The body's JSON, its shape bounded before it is parsed (src/protocol/json-body.ts). */
function parsed(text: string): unknown {
  const problem = jsonShapeProblem(text);
  if (problem) throw refuse(problem);
  try {
    return JSON.parse(text);
  } catch {
    throw refuse('the body is not JSON');
  }
}

/** A parsed poll body, read (exported for its tests). */
export function readPoll(body: unknown): PollRequest {
  if (body === undefined || body === null) return { maxEvents: DEFAULT_MAX_EVENTS, returnImmediately: false, ack: [], setErrs: [] };
  if (typeof body !== 'object' || Array.isArray(body)) throw refuse('the body must be a JSON object');
  const { maxEvents, returnImmediately, ack, setErrs } = body as Record<string, unknown>;
  if (maxEvents !== undefined && (typeof maxEvents !== 'number' || !Number.isSafeInteger(maxEvents) || maxEvents < 0)) {
    throw refuse('maxEvents must be a non-negative integer');
  }
  if (returnImmediately !== undefined && typeof returnImmediately !== 'boolean') throw refuse('returnImmediately must be true or false');
  if (ack !== undefined && (!Array.isArray(ack) || ack.some((jti) => typeof jti !== 'string'))) throw refuse('ack must be an array of jti strings');
  if (setErrs !== undefined && (typeof setErrs !== 'object' || setErrs === null || Array.isArray(setErrs))) {
    throw refuse('setErrs must be an object of jti to {err, description}');
  }
  const errors = Object.entries((setErrs ?? {}) as Record<string, unknown>).map(([jti, value]) => {
    const err = (value as { err?: unknown } | null)?.err;
    if (typeof value !== 'object' || value === null || typeof err !== 'string') throw refuse('each member of setErrs must be {err, description}');
    return { jti, err };
  });
  const acked = (ack ?? []) as string[];
  if (acked.length + errors.length > MAX_ACKNOWLEDGED) throw refuse(`at most ${MAX_ACKNOWLEDGED} jtis in ack and setErrs together`);
  return {
    maxEvents: Math.min(maxEvents ?? DEFAULT_MAX_EVENTS, MAX_EVENTS),
    returnImmediately: returnImmediately ?? false,
    ack: acked.filter((jti) => UUID.test(jti.toLowerCase())).map((jti) => jti.toLowerCase()),
    setErrs: errors.filter((e) => UUID.test(e.jti.toLowerCase())).map((e) => ({ jti: e.jti.toLowerCase(), err: e.err })),
  };
}
