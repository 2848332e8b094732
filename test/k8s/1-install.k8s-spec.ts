/**
 * Step 1 of the chart on a real cluster (docs/testing.md): `helm install` of ci/k8s-values.yaml —
 * the migration hook Job applies the schema, both replicas become Ready behind the Services,
 * `helm test` passes, and a revocation through the public Service is in the database.
 */
import { randomUUID } from 'node:crypto';
import { admin, CHART, FULLNAME, gatewayPods, helm, json, NAMESPACE, RELEASE, serviceUrl, sql, VALUES } from './support/cluster';

import { CLIENT_ID, CLIENT_SECRET, registerClient } from './support/load';

const basic = `Basic ${Buffer.from(`${CLIENT_ID}:${CLIENT_SECRET}`).toString('base64')}`;

describe('helm install on a real cluster', () => {
  beforeAll(async () => {
    // The hook Job runs before any gateway pod; --wait holds until the Deployment is available.
    await helm('install', RELEASE, CHART, '--create-namespace', '--values', VALUES, '--wait', '--timeout', '5m');
  });

  it('ran the migration hook Job to completion before the gateway pods were made', async () => {
    // hook-delete-policy hook-succeeded: a Job that succeeded is gone; one that failed is kept.
    const jobs = await json('get', 'jobs', '-l', `app.kubernetes.io/instance=${RELEASE},app.kubernetes.io/component=migrations`);
    expect(jobs.items.map((job: any) => job.metadata.name)).toEqual([]);
    const events = await json('get', 'events', '--field-selector', `involvedObject.kind=Job,involvedObject.name=${FULLNAME}-migrations`);
    const completed = events.items.find((event: any) => event.reason === 'Completed');
    expect(completed).toBeDefined();
    const pods = await json('get', 'pods', '-l', `app.kubernetes.io/instance=${RELEASE},app.kubernetes.io/component=gateway`);
    const firstPod = Math.min(...pods.items.map((pod: any) => Date.parse(pod.metadata.creationTimestamp)));
    // Event times are whole seconds.
    expect(Date.parse(completed.lastTimestamp ?? completed.eventTime)).toBeLessThanOrEqual(firstPod);
    const [{ applied }] = await sql<{ applied: number }>('SELECT count(*)::int AS applied FROM migrations');
    expect(applied).toBeGreaterThan(0);
  });

  it('has both replicas Ready behind the public and the management Service', async () => {
    const pods = await gatewayPods();
    expect(pods).toHaveLength(2);
    expect(pods.every((pod) => pod.ready)).toBe(true);
    for (const service of [FULLNAME, `${FULLNAME}-management`]) {
      const slices = await json('get', 'endpointslices', '-l', `kubernetes.io/service-name=${service}`);
      const ready = slices.items.flatMap((slice: any) => slice.endpoints ?? []).filter((e: any) => e.conditions?.ready);
      expect({ service, ready: ready.length }).toEqual({ service, ready: 2 });
    }
  });

  it('passes helm test (the test pod reaches /health/ready through cluster DNS and the management Service)', async () => {
    const output = await helm('test', RELEASE, '--timeout', '2m');
    expect(output).toMatch(/Phase:\s+Succeeded/);
  });

  it('revokes a token through the public Service, and the revocation is in the database', async () => {
    const management = await serviceUrl(`${FULLNAME}-management`);
    const publicUrl = await serviceUrl(FULLNAME);
    await registerClient(management);
    const token = `k8s-install-${randomUUID()}`;
    await admin(management, 'POST', '/admin/tokens', {
      tokens: [{ token, token_type: 'access_token', client_id: CLIENT_ID, grant_id: 'g-install', expires_at: '2030-01-01T00:00:00Z' }],
    });
    const interactionId = randomUUID();
    const response = await fetch(`${publicUrl}/token/revoke`, {
      method: 'POST',
      headers: { authorization: basic, 'content-type': 'application/x-www-form-urlencoded', 'x-fapi-interaction-id': interactionId },
      body: new URLSearchParams({ token }).toString(),
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('x-fapi-interaction-id')).toBe(interactionId);
    const rows = await sql<{ revoked: boolean }>(
      `SELECT revoked_at IS NOT NULL AS revoked FROM tokens WHERE tenant = 'default' AND token_hash = sha256(convert_to($1, 'UTF8'))`,
      [token],
    );
    expect(rows).toEqual([{ revoked: true }]);
  });

  it('serves every pod of the namespace from the locally built images, never pulled', async () => {
    const pods = await json('get', 'pods', '--namespace', NAMESPACE);
    const images = new Set<string>(pods.items.flatMap((pod: any) => pod.spec.containers.map((c: any) => c.image)));
    expect([...images]).toEqual(['localhost/fapi-revocation-gateway:k8s-test']);
  });
});
