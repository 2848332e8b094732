import { ProtocolError } from '../protocol/protocol-error';
import { eventsDelivered, POLL, PUSH, SESSION_REVOKED, statusRequest, streamChange, streamRequest, TOKEN_REVOKED } from './stream-request';

const refused = (work: () => unknown): string => {
  try {
    work();
  } catch (error) {
    expect(error).toBeInstanceOf(ProtocolError);
    return (error as ProtocolError).description;
  }
  throw new Error('accepted');
};

describe('stream requests (docs/api.md §12.2)', () => {
  it('reads a push stream, defaulting the tenant and dropping repeated event types', () => {
    expect(
      streamRequest({
        aud: 'rs',
        delivery: { method: PUSH, endpoint_url: 'https://r.example/e', authorization_header: 'Bearer x y' },
        events_requested: [TOKEN_REVOKED, TOKEN_REVOKED],
      }),
    ).toEqual({
      tenant: 'default',
      aud: 'rs',
      method: PUSH,
      endpointUrl: 'https://r.example/e',
      authorizationHeader: 'Bearer x y',
      eventsRequested: [TOKEN_REVOKED],
    });
  });

  it('ignores the endpoint a poll stream names: the transmitter names it', () => {
    expect(streamRequest({ aud: ['a'], delivery: { method: POLL, endpoint_url: 'https://elsewhere.example' }, events_requested: [] })).toEqual({
      tenant: 'default',
      aud: ['a'],
      method: POLL,
      eventsRequested: [],
    });
  });

  it.each([
    [
      { aud: 'rs', delivery: { method: PUSH, endpoint_url: 'https://r.example', authorization_header: ' Bearer x' }, events_requested: [] },
      /authorization_header/,
    ],
    [{ aud: 'rs', delivery: { method: PUSH, endpoint_url: 'https://r.example#frag' }, events_requested: [] }, /endpoint_url/],
    [{ aud: 'rs', delivery: { method: PUSH, endpoint_url: 'https://r.example' }, events_requested: [7] }, /events_requested\[0\]/],
    [{ aud: ['ok', ''], delivery: { method: POLL }, events_requested: [] }, /aud\[1\]/],
    [{ aud: 'rs', delivery: { method: POLL }, events_requested: [], description: 'x'.repeat(1025) }, /description/],
  ])('refuses %j', (body, message) => {
    expect(refused(() => streamRequest(body))).toMatch(message);
  });

  it('a change names only what it changes; null removes the credential; a poll stream takes no delivery change', () => {
    expect(streamChange({ description: 'd' }, PUSH)).toEqual({ description: 'd' });
    expect(streamChange({ delivery: { authorization_header: null } }, PUSH)).toEqual({ authorizationHeader: null });
    expect(streamChange({ delivery: { method: PUSH, endpoint_url: 'http://r.example' } }, PUSH)).toEqual({ endpointUrl: 'http://r.example' });
    expect(refused(() => streamChange({ delivery: { endpoint_url: 'https://r.example' } }, POLL))).toMatch(/poll stream/);
    expect(refused(() => streamChange({ delivery: { method: POLL } }, PUSH))).toMatch(/cannot change/);
  });

  it('status is one of three, with an optional reason', () => {
    expect(statusRequest({ status: 'paused', reason: 'r' })).toEqual({ status: 'paused', reason: 'r' });
    expect(refused(() => statusRequest({ status: 'PAUSED' }))).toMatch(/status/);
  });

  it('delivers what was requested of what is supported, in the order asked', () => {
    expect(eventsDelivered([SESSION_REVOKED, 'urn:example:other', TOKEN_REVOKED])).toEqual([SESSION_REVOKED, TOKEN_REVOKED]);
  });
});
