/**
 * Step 4 (docs/testing.md): `helm rollback` to the first revision, under load. The rollback rolls
 * the pods back to revision 1's configuration; the chart has no rollback hook, so the migration
 * Job does not run and nothing undoes the schema (the chart never runs down-migrations:
 * docs/operations.md#migrations).
 */
import { FULLNAME, gatewayPods, helm, json, RELEASE, serviceUrl, sleep, sql } from './support/cluster';
import { notRevoked, registerClient, seedTokens, startLoad, summary } from './support/load';

const RATE = Number(process.env.K8S_LOAD_RATE ?? 300);
const SEEDED = RATE * 180;
const migrations = () => sql<{ name: string }>('SELECT name FROM migrations ORDER BY id');

describe('helm rollback to the first revision', () => {
  it('rolls the pods back under load with 0 failed revocations, and leaves the schema as it was', async () => {
    const publicUrl = await serviceUrl(FULLNAME);
    await registerClient(await serviceUrl(`${FULLNAME}-management`));
    await seedTokens('rollback', SEEDED);
    const schema = await migrations();
    const before = await gatewayPods();
    const started = Date.now();
    const load = startLoad(publicUrl, 'rollback', RATE, SEEDED);
    await sleep(3_000);
    await helm('rollback', RELEASE, '1', '--wait', '--timeout', '5m');
    await sleep(Math.max(0, 40_000 - (Date.now() - started)));
    const report = await load.stop();
    console.log(`rollback: ${summary(report)}`, report.failures.slice(0, 10));

    const history = JSON.parse(await helm('history', RELEASE, '--output', 'json')) as Array<{ revision: number; status: string; description: string }>;
    expect(history.at(-1)).toMatchObject({ status: 'deployed', description: 'Rollback to 1' });
    // Revision 1's configuration is back (the upgrade had set LOG_LEVEL=warn).
    const configMap = await json('get', 'configmap', FULLNAME);
    expect(configMap.data.LOG_LEVEL).toBe('info');
    const after = await gatewayPods();
    expect(after.filter((pod) => pod.ready)).toHaveLength(2);
    expect(after.filter((pod) => before.some((old) => old.uid === pod.uid))).toEqual([]);
    // No hook ran: nothing happened to a migration Job since the rollback began (a Job that ran
    // and succeeded would be gone, but its events stay), and the schema is what it was.
    const events = await json('get', 'events', '--field-selector', `involvedObject.kind=Job,involvedObject.name=${FULLNAME}-migrations`);
    expect(events.items.length).toBeGreaterThan(0); // the install's and the upgrade's
    const since = events.items.filter((e: any) => Date.parse(e.lastTimestamp ?? e.eventTime) >= Math.floor(started / 1000) * 1000);
    expect(since.map((e: any) => `${e.reason}: ${e.message}`)).toEqual([]);
    expect(await migrations()).toEqual(schema);

    expect(report.failures.slice(0, 20)).toEqual([]);
    expect(report.skipped).toBe(0);
    expect(report.exhausted).toBe(false);
    expect(await notRevoked(report.revoked)).toEqual([]);
  });
});
