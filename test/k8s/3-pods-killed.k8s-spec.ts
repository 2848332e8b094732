/**
 * Step 3 (docs/testing.md): pods taken away under load through the public Service — killed by the
 * runtime with SIGKILL (no SIGTERM, no drain), deleted with kubectl (the graceful path), and
 * evicted by `kubectl drain` against the PodDisruptionBudget. A SIGKILL may cost the requests that
 * were on the killed pod's connections (the client sees a reset); nothing may cost a revocation
 * that was answered 2xx, and the pods come back Ready.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { eventually } from '../support/eventually';
import { CLUSTER_POLL, FULLNAME, gatewayPods, json, kubectl, run, serviceUrl, sleep } from './support/cluster';
import { notRevoked, registerClient, seedTokens, startLoad, summary, type LoadReport } from './support/load';

const RATE = Number(process.env.K8S_LOAD_RATE ?? 300);
const NODE = 'revgw-node';
const SEEDED = RATE * 180;

const twoReady = () =>
  eventually(async () => (await gatewayPods()).filter((pod) => pod.ready && !pod.deleting).length === 2, 120_000, 'two Ready gateway pods', CLUSTER_POLL);

/** Runs `disrupt` under load, for at least `seconds`; the load's report. */
async function underLoad(prefix: string, seconds: number, disrupt: () => Promise<void>): Promise<LoadReport> {
  const started = Date.now();
  const load = startLoad(publicUrl, prefix, RATE, SEEDED);
  let failed: Error | undefined;
  try {
    await sleep(3_000);
    await disrupt();
    await sleep(Math.max(0, seconds * 1000 - (Date.now() - started)));
  } catch (error) {
    failed = error as Error;
  }
  const report = await load.stop();
  console.log(`${prefix}: ${summary(report)}`, report.failures.slice(0, 10));
  if (failed) throw failed;
  expect(report.skipped).toBe(0);
  expect(report.exhausted).toBe(false);
  return report;
}

let publicUrl: string;

describe('pods killed under load', () => {
  beforeAll(async () => {
    publicUrl = await serviceUrl(FULLNAME);
    await registerClient(await serviceUrl(`${FULLNAME}-management`));
    for (const prefix of ['sigkill', 'delete', 'drain']) await seedTokens(prefix, SEEDED);
    await twoReady();
  });

  it('SIGKILL through the runtime: only requests on the killed process fail (no answer), every 2xx is in the database, the container is restarted and Ready', async () => {
    const [victim] = await gatewayPods();
    const pod = await json('get', 'pod', victim.name);
    const containerId = String(pod.status.containerStatuses[0].containerID).replace(/^containerd:\/\//, '');
    const restarts = pod.status.containerStatuses[0].restartCount;
    const report = await underLoad('sigkill', 25, async () => {
      await run('ctr', [
        '--address',
        `${process.env.REVGW_K8S_STATE}/containerd/containerd.sock`,
        '--namespace',
        'k8s.io',
        'tasks',
        'kill',
        '--signal',
        'SIGKILL',
        containerId,
      ]);
      await eventually(
        async () => {
          const now = await json('get', 'pod', victim.name);
          return now.status.containerStatuses[0].restartCount > restarts && (await gatewayPods()).find((p) => p.name === victim.name)?.ready;
        },
        120_000,
        'the killed container to be restarted and Ready',
        CLUSTER_POLL,
      );
    });
    // Every answer that came was a 200; what failed failed without one (a reset or a refusal).
    expect(Object.keys(report.statuses)).toEqual(['200']);
    // A reset or a closed socket (in flight on the killed process), or a refusal (sent to its
    // address before the endpoint went); never a timeout, which would mean a hang.
    expect(report.failures.filter((failure) => !['ECONNRESET', 'ECONNREFUSED', 'UND_ERR_SOCKET', 'EPIPE'].includes(failure.error ?? ''))).toEqual([]);
    expect(report.failures.length).toBeLessThan(report.sent / 20);
    expect(await notRevoked(report.revoked)).toEqual([]);
    await twoReady();
  });

  it('kubectl delete pod: 0 failed revocations, a replacement pod Ready', async () => {
    const [victim] = await gatewayPods();
    const report = await underLoad('delete', 30, async () => {
      await kubectl('delete', 'pod', victim.name, '--wait=false');
      await eventually(
        async () => {
          const pods = await gatewayPods();
          return !pods.some((p) => p.uid === victim.uid) && pods.filter((p) => p.ready).length === 2;
        },
        120_000,
        'a replacement pod Ready',
        CLUSTER_POLL,
      );
    });
    expect(report.failures.slice(0, 20)).toEqual([]);
    expect(await notRevoked(report.revoked)).toEqual([]);
  });

  it('kubectl drain: the PodDisruptionBudget lets one pod go and holds the other, with 0 failed revocations', async () => {
    const before = await gatewayPods();
    let drain = '';
    const report = await underLoad('drain', 45, async () => {
      // One node: the evicted pod's replacement cannot be scheduled on the cordoned node, so the
      // budget (maxUnavailable 1) must refuse the second eviction until the drain gives up.
      drain = await new Promise<string>((resolve) =>
        execFile(
          'kubectl',
          ['drain', NODE, '--ignore-daemonsets', '--delete-emptydir-data', '--timeout=25s', '--pod-selector', 'app.kubernetes.io/component=gateway'],
          (error, stdout, stderr) => resolve(`${error ? `exit ${error.code}\n` : 'exit 0\n'}${stdout}${stderr}`),
        ),
      );
      const during = await gatewayPods();
      // Exactly one of the two is gone, the other still serves.
      expect(during.filter((p) => before.some((b) => b.uid === p.uid) && p.ready && !p.deleting)).toHaveLength(1);
      await kubectl('uncordon', NODE);
      await twoReady();
    });
    expect(drain).toMatch(/^exit [1-9]/);
    expect(drain).toMatch(/disruption budget/);
    expect(report.failures.slice(0, 20)).toEqual([]);
    expect(await notRevoked(report.revoked)).toEqual([]);
  });

  afterAll(async () => {
    await promisify(execFile)('kubectl', ['uncordon', NODE]).catch(() => undefined);
  });
});
