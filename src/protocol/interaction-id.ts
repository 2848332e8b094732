import { randomUUID } from 'node:crypto';

export const INTERACTION_ID_HEADER = 'x-fapi-interaction-id';

/** RFC 9562 UUID, versions 1–8, RFC 4122 variant, either case. The nil UUID fails the version digit. */
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[1-8][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i;

export interface InteractionId {
  /** The id to answer with: the caller's if it was a valid UUID, else a fresh v4. */
  readonly id: string;
  /** The caller sent something that is not a UUID: the request must be refused (docs/api.md §3). */
  readonly rejected: boolean;
}

/** docs/api.md §3: echo a valid id, generate one for a missing or empty header, never echo anything else. */
export function resolveInteractionId(header: string | string[] | undefined): InteractionId {
  if (header === undefined || header === '') return { id: randomUUID(), rejected: false };
  if (typeof header === 'string' && UUID.test(header)) return { id: header, rejected: false };
  return { id: randomUUID(), rejected: true };
}
