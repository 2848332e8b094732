import { readUpstreamAnswer, UpstreamFailure } from './upstream-outcome';

function outcomeOf(dialect: 'rfc7009' | 'oam', status: number, body = ''): string {
  try {
    readUpstreamAnswer(dialect, status, body);
    return 'delivered';
  } catch (error) {
    const failure = error as UpstreamFailure;
    return `${failure.status} ${failure.outcome}`;
  }
}

describe('readUpstreamAnswer (docs/api.md §6 mapping)', () => {
  it.each([
    ['rfc7009', 200, '', 'delivered'],
    ['rfc7009', 204, '', 'delivered'],
    ['rfc7009', 200, '{}', 'delivered'],
    ['rfc7009', 200, '  \n', 'delivered'],
    ['rfc7009', 200, '<html>login</html>', '502 unexpected_response'],
    ['rfc7009', 200, '{"error":"invalid_request"}', '502 unexpected_response'],
    ['rfc7009', 429, '', '504 throttled'],
    ['rfc7009', 503, '', '504 unavailable'],
    ['rfc7009', 500, '', '502 server_error'],
    ['rfc7009', 502, '', '502 server_error'],
    ['rfc7009', 504, '', '502 server_error'],
    ['rfc7009', 400, '{"error":"invalid_request"}', '502 unexpected_response'],
    ['rfc7009', 401, '', '502 unexpected_response'],
    ['rfc7009', 404, '', '502 unexpected_response'],
    ['rfc7009', 302, '', '502 unexpected_response'],
    ['oam', 200, '{"status":"success"}', 'delivered'],
    ['oam', 200, '{"status":"failure"}', '502 unexpected_response'],
    ['oam', 200, '', '502 unexpected_response'],
    ['oam', 200, '["success"]', '502 unexpected_response'],
    ['oam', 503, '{"status":"success"}', '504 unavailable'],
  ] as const)('%s %i %j → %s', (dialect, status, body, expected) => {
    expect(outcomeOf(dialect, status, body)).toBe(expected);
  });

  it('counts towards the circuit only what is about the upstream, not about one token', () => {
    const trips = (status: number, body = '') => {
      try {
        readUpstreamAnswer('rfc7009', status, body);
      } catch (error) {
        return (error as UpstreamFailure).tripsBreaker;
      }
      return undefined;
    };
    expect([500, 502, 503, 429, 401, 302].map((status) => trips(status))).toEqual([true, true, true, true, true, true]);
    expect(trips(200, '<html>')).toBe(true);
    expect([400, 403, 404, 413].map((status) => trips(status))).toEqual([false, false, false, false]);
    expect(new UpstreamFailure('timeout', 'x').tripsBreaker).toBe(true);
  });

  it('puts timeouts and "later" answers on 504, everything else on 502', () => {
    expect(new UpstreamFailure('timeout', 'x').status).toBe(504);
    expect(new UpstreamFailure('connection_error', 'x').status).toBe(502);
    expect(new UpstreamFailure('circuit_open', 'x').status).toBe(502);
  });
});
