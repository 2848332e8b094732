import { ERROR_CODES, ProtocolError, STATUS_OF_CODE } from './protocol-error';

describe('ProtocolError', () => {
  it('takes its status from its code (docs/api.md §2)', () => {
    expect(new ProtocolError('invalid_request', 'x').status).toBe(400);
    expect(new ProtocolError('invalid_client', 'x').status).toBe(401);
    expect(new ProtocolError('invalid_arrangement', 'x').status).toBe(422);
    expect(ProtocolError.temporarilyUnavailable('db down').status).toBe(503);
    expect(ProtocolError.serverError('boom').status).toBe(500);
  });

  it('maps client errors to 4xx and server errors to 5xx, every code', () => {
    for (const code of ERROR_CODES) {
      const status = new ProtocolError(code, 'x').status;
      expect(status).toBe(STATUS_OF_CODE[code]);
      expect(code === 'server_error' || code === 'bad_gateway' || code === 'gateway_timeout' || code === 'temporarily_unavailable').toBe(status >= 500);
    }
  });

  it('answers transport refusals with invalid_request and their own status', () => {
    for (const status of [400, 408, 413, 417, 431] as const) {
      const error = ProtocolError.transport(status, 'x', { detail: 'd' });
      expect([error.status, error.code, error.detail]).toEqual([status, 'invalid_request', 'd']);
    }
  });
});
