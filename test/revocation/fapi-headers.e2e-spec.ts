import fc from 'fast-check';
import { isCustomerIpAddress, isCustomerUserAgent, isFapiAuthDate } from '../../src/fapi/fapi-headers';
import { json, startTestGateway, type TestGateway } from '../support/gateway';

/**
 * docs/api.md §4 through HTTP: any value of a FAPI header is either accepted (the request goes on to
 * a 200) or refused with a 400 naming the header — never a 5xx. Valid dates round-trip.
 */
describe('FAPI request headers over HTTP (property)', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway();
    await gw.admin('PUT', '/admin/clients/public-app', { auth_method: 'none' });
  });
  afterAll(() => gw.stop());

  // What an HTTP client can send: visible ASCII and spaces (fetch refuses control characters).
  const headerText = fc.string({ maxLength: 80, unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)) });
  const authDate = fc.oneof(
    fc.integer({ min: Date.UTC(1000, 0, 1) / 1000, max: Date.UTC(9999, 11, 31) / 1000 }).map((s) => new Date(s * 1000).toUTCString()),
    headerText,
    fc.constantFrom('Sun, 31 Feb 2026 10:00:00 GMT', 'Sat, 29 Feb 2025 10:00:00 GMT', 'Thu, 29 Feb 2024 10:00:00 UTC'),
  );
  const ip = fc.oneof(fc.ipV4(), fc.ipV6(), fc.ipV4Extended(), headerText);
  const agent = fc.oneof(headerText, fc.constant('x'.repeat(513)));

  const cases: Array<[string, fc.Arbitrary<string>, (value: string) => boolean]> = [
    ['x-fapi-auth-date', authDate, isFapiAuthDate],
    ['x-fapi-customer-ip-address', ip, isCustomerIpAddress],
    ['x-customer-user-agent', agent, isCustomerUserAgent],
  ];

  it.each(cases)('%s: 200 when valid, else 400 naming it', async (header, values, valid) => {
    await fc.assert(
      fc.asyncProperty(values, async (value) => {
        const response = await gw.post('/token/revoke', { token: 'x', client_id: 'public-app' }, { [header]: value });
        // HTTP trims surrounding whitespace from header values before anyone sees them.
        if (valid(value.trim())) {
          expect(response.status).toBe(200);
        } else {
          expect(response.status).toBe(400);
          expect((await json(response)).error_description).toBe(`${header} is malformed`);
        }
      }),
      { seed: 4242, numRuns: 150 },
    );
  });
});
