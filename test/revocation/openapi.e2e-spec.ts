import { Validator } from '@seriousme/openapi-schema-validator';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { renderCheckedIn } from '../../src/discovery/write-openapi';
import { json, startTestGateway, type TestGateway } from '../support/gateway';

const CHECKED_IN = resolve(__dirname, '../../docs/openapi.json');

describe('OpenAPI document of the public API', () => {
  let gw: TestGateway;
  beforeAll(async () => (gw = await startTestGateway()));
  afterAll(() => gw.stop());

  it('is served at /openapi.json and is the checked-in docs/openapi.json (run `npm run openapi` when this fails)', async () => {
    const response = await fetch(`${gw.publicUrl}/openapi.json`);
    expect(response.status).toBe(200);
    const served = await json(response);
    expect(readFileSync(CHECKED_IN, 'utf8')).toBe(renderCheckedIn());
    expect(served).toEqual(JSON.parse(readFileSync(CHECKED_IN, 'utf8')));
  });

  it('is a valid OpenAPI 3.1 document', async () => {
    const result = await new Validator().validate(JSON.parse(readFileSync(CHECKED_IN, 'utf8')));
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
  });

  it('documents every profile route with exactly the statuses it answers (502/504 where revocations are propagated upstream)', async () => {
    const document = JSON.parse(readFileSync(CHECKED_IN, 'utf8'));
    const statuses = (route: string) => Object.keys(document.paths[route].post.responses).map(Number);
    expect(statuses('/token/revoke')).toEqual([200, 400, 401, 413, 429, 500, 502, 503, 504]);
    expect(statuses('/token/revocation')).toEqual([204, 400, 401, 404, 406, 413, 429, 500, 502, 503, 504]);
    expect(statuses('/oauth2/rest/token/revoke')).toEqual([200, 400, 401, 413, 429, 500, 502, 503, 504]);
    expect(statuses('/api/id/v1/auth/token/revoke')).toEqual([200, 400, 401, 413, 429, 500, 502, 503, 504]);
    expect(statuses('/arrangements/revoke')).toEqual([204, 400, 401, 413, 422, 429, 500, 503]);
  });

  it('leaves out switched-off profiles', async () => {
    const fapiOnly = await startTestGateway({ PROFILES: 'fapi' });
    try {
      const document = await json(await fetch(`${fapiOnly.publicUrl}/openapi.json`));
      expect(Object.keys(document.paths)).toEqual(['/token/revocation', '/.well-known/oauth-authorization-server', '/jwks.json', '/openapi.json']);
    } finally {
      await fapiOnly.stop();
    }
  });
});
