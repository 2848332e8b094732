/**
 * Step 2 (docs/testing.md): `helm upgrade` with a changed configuration under load through the
 * public Service. The config checksum changes, so the Deployment rolls both pods (maxSurge 1,
 * maxUnavailable 0); every pod that goes receives SIGTERM after its preStop sleep and drains.
 * No revocation may fail, and every one answered 2xx must be in the database.
 */
import { CHART, FULLNAME, gatewayPods, helm, RELEASE, serviceUrl, sleep, VALUES } from './support/cluster';
import { notRevoked, registerClient, seedTokens, startLoad, summary } from './support/load';

const RATE = Number(process.env.K8S_LOAD_RATE ?? 300);
const SECONDS = Number(process.env.K8S_LOAD_SECONDS ?? 60);
// Three minutes of load: the rollout may take longer than SECONDS.
const SEEDED = RATE * 180;

describe('helm upgrade under load', () => {
  let publicUrl: string;

  beforeAll(async () => {
    publicUrl = await serviceUrl(FULLNAME);
    await registerClient(await serviceUrl(`${FULLNAME}-management`));
    await seedTokens('upgrade', SEEDED);
  });

  it(`rolls both pods with 0 failed revocations at ${RATE}/s, and every 2xx is in the database`, async () => {
    const before = await gatewayPods();
    const started = Date.now();
    const load = startLoad(publicUrl, 'upgrade', RATE, SEEDED);
    await sleep(5_000);
    await helm('upgrade', RELEASE, CHART, '--values', VALUES, '--set', 'config.logLevel=warn', '--wait', '--timeout', '5m');
    const rolledAfterMs = Date.now() - started;
    await sleep(Math.max(0, SECONDS * 1000 - (Date.now() - started)));
    const report = await load.stop();
    console.log(`upgrade: pods rolled ${(rolledAfterMs / 1000).toFixed(1)} s into the load; ${summary(report)}`, report.failures.slice(0, 20));

    const after = await gatewayPods();
    expect(after.filter((pod) => pod.ready)).toHaveLength(2);
    // Every pod is new: the rollout really happened under the load.
    expect(after.filter((pod) => before.some((old) => old.uid === pod.uid))).toEqual([]);
    expect(report.failures.slice(0, 20)).toEqual([]);
    expect(report.skipped).toBe(0);
    expect(report.exhausted).toBe(false);
    expect(await notRevoked(report.revoked)).toEqual([]);
  });
});
