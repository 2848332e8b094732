import { randomUUID } from 'node:crypto';
import { basic, deadlocks, IN_A_YEAR, newToken, startTestGateway, type TestGateway } from '../support/gateway';

const asApp = { authorization: basic('app', 'app-secret-value') };

/**
 * The reliability issue: 100 revocations at once over one consent and its refresh token — every
 * level, two profiles, an admin withdrawal of the consent among them. No deadlock, no 5xx, every
 * token revoked exactly once (the counts add up), one audit row per request.
 */
describe('100 parallel cascades over one consent and one refresh token', () => {
  let gw: TestGateway;

  beforeAll(async () => {
    gw = await startTestGateway({ THROTTLE_IP_LIMIT: '0', THROTTLE_CLIENT_LIMIT: '0' });
    await gw.admin('PUT', '/admin/clients/app', { auth_method: 'client_secret_basic', secret: 'app-secret-value' });
  });
  afterAll(() => gw.stop());

  it.each([1, 2, 3])('round %i: exact final state, one audit row per request', async () => {
    const consent = newToken('consent');
    const rt = newToken('rt');
    const ats = Array.from({ length: 30 }, () => newToken('at'));
    const base = { client_id: 'app', grant_id: 'g', consent_id: consent, expires_at: IN_A_YEAR };
    expect(
      (
        await gw.admin('POST', '/admin/tokens', {
          tokens: [
            { ...base, token: rt, token_type: 'refresh_token' },
            ...ats.map((token) => ({ ...base, token, token_type: 'access_token', refresh_token: rt })),
          ],
        })
      ).status,
    ).toBe(201);
    const pick = (i: number) => ats[(i * 7) % ats.length];
    const requests: Array<{ path: string; form: Record<string, string> }> = [
      ...ats.map((token) => ({ path: '/oauth2/rest/token/revoke', form: { token, revocation_level: 'RELATED_CONSENT' } })),
      ...Array.from({ length: 30 }, () => ({ path: '/oauth2/rest/token/revoke', form: { token: rt, revocation_level: 'RELATED_TOKENS' } })),
      ...Array.from({ length: 20 }, (_, i) => ({ path: '/token/revoke', form: { token: pick(i) } })),
      ...Array.from({ length: 18 }, () => ({ path: '/token/revoke', form: { token: rt, token_type_hint: 'refresh_token' } })),
    ].sort(() => Math.random() - 0.5);
    const ids = requests.map(() => randomUUID());
    const before = await deadlocks(gw);

    const withdrawals = [0, 1].map(() => gw.admin('POST', '/admin/revocations', { consent_id: consent }));
    const statuses = await Promise.all(
      requests.map((r, i) => gw.post(r.path, r.form, { ...asApp, 'x-fapi-interaction-id': ids[i] }).then((res) => res.status)),
    );
    const admins = await Promise.all(withdrawals);

    expect(new Set(statuses)).toEqual(new Set([200]));
    expect(admins.map((a) => a.status)).toEqual([200, 200]);
    expect(await deadlocks(gw)).toBe(before);
    for (const token of [rt, ...ats]) expect((await gw.admin('POST', '/admin/tokens/status', { token })).body.active).toBe(false);
    const events = await Promise.all(ids.map(async (id) => (await gw.admin('GET', `/admin/revocation-events?interaction_id=${id}`)).body.events));
    expect(events.map((e) => e.length)).toEqual(ids.map(() => 1));
    const revokedByRequests = events.reduce((sum, e) => sum + e[0].revoked, 0);
    expect(revokedByRequests + admins.reduce((sum, a) => sum + a.body.revoked, 0)).toBe(1 + ats.length);
  });
});
