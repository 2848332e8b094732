import { UpstreamFailure } from '../upstream/upstream-outcome';
import { readIntrospectionAnswer as read } from './upstream-introspection';

const NOW = 1_800_000_000;
const readIntrospectionAnswer = (status: number, body: string) => read(status, body, NOW);

describe('readIntrospectionAnswer (docs/api.md §11.4)', () => {
  const failure = (status: number, body = '') => {
    try {
      readIntrospectionAnswer(status, body);
    } catch (error) {
      return error as UpstreamFailure;
    }
    throw new Error('no failure');
  };

  it('an active answer: as it came, with what the gateway reads of it', () => {
    const body = { active: true, client_id: 'tpp', exp: 1_900_000_000, token_type: 'Bearer', x: [1] };
    expect(readIntrospectionAnswer(200, JSON.stringify(body))).toEqual({
      answer: body,
      clientId: 'tpp',
      tokenType: 'access_token',
      exp: 1_900_000_000,
      size: JSON.stringify(body).length,
    });
  });

  it('an inactive answer is undefined, whatever else it holds', () => {
    expect(readIntrospectionAnswer(200, '{"active":false,"client_id":"tpp"}')).toBeUndefined();
  });

  it.each(['refresh_token', 'Refresh', 'refresh', 'refresh-token', 'urn:ietf:params:oauth:token-type:refresh_token'])(
    'token_type, token_use or typ %s is a refresh token',
    (value) => {
      for (const member of ['token_type', 'token_use', 'typ']) {
        expect(readIntrospectionAnswer(200, JSON.stringify({ active: true, [member]: value }))?.tokenType).toBe('refresh_token');
      }
    },
  );

  it('an active answer whose exp has passed, or whose nbf has not come, is inactive', () => {
    expect(readIntrospectionAnswer(200, JSON.stringify({ active: true, exp: NOW }))).toBeUndefined();
    expect(readIntrospectionAnswer(200, JSON.stringify({ active: true, exp: NOW - 3600 }))).toBeUndefined();
    expect(readIntrospectionAnswer(200, JSON.stringify({ active: true, nbf: NOW + 60 }))).toBeUndefined();
    expect(readIntrospectionAnswer(200, JSON.stringify({ active: true, exp: NOW + 1, nbf: NOW }))).toBeDefined();
  });

  it('leaves out a client_id of the wrong type', () => {
    expect(readIntrospectionAnswer(200, JSON.stringify({ active: true, client_id: 7 }))).toMatchObject({ tokenType: 'access_token' });
    expect(readIntrospectionAnswer(200, JSON.stringify({ active: true, client_id: 7 }))).not.toHaveProperty('clientId');
  });

  it.each([
    [429, '', 504, 'throttled'],
    [503, '', 504, 'unavailable'],
    [500, '', 502, 'server_error'],
    [502, '', 502, 'server_error'],
    [401, '', 502, 'unexpected_response'],
    [400, '{"error":"invalid_request"}', 502, 'unexpected_response'],
    [302, '', 502, 'unexpected_response'],
    [204, '', 502, 'unexpected_response'],
    [200, 'not json', 502, 'unexpected_response'],
    [200, '[]', 502, 'unexpected_response'],
    [200, '{"active":"true"}', 502, 'unexpected_response'],
    [200, '{}', 502, 'unexpected_response'],
    [200, '{"active":true,"exp":"1900000000"}', 502, 'unexpected_response'],
    [200, '{"active":true,"exp":1e13}', 502, 'unexpected_response'],
    [200, '{"active":true,"exp":-1}', 502, 'unexpected_response'],
    [200, '{"active":true,"iat":1e20}', 502, 'unexpected_response'],
    [200, '{"active":true,"nbf":"soon"}', 502, 'unexpected_response'],
  ])('%i %s → %i (%s)', (status, body, caller, outcome) => {
    const error = failure(status, body);
    expect(error).toBeInstanceOf(UpstreamFailure);
    expect(error.status).toBe(caller);
    expect(error.outcome).toBe(outcome);
  });

  it('a 400 answers one request: it does not open the circuit; a 401 (our credentials) does', () => {
    expect(failure(400).tripsBreaker).toBe(false);
    expect(failure(401).tripsBreaker).toBe(true);
  });
});
