/**
 * Step 5 (docs/testing.md): a real Prometheus scrapes the release through Kubernetes service
 * discovery, as the chart's ServiceMonitor tells the Prometheus Operator to, and evaluates the
 * chart's PrometheusRule: every revgw_* family of docs/api.md is ingested, every rule evaluates,
 * and every query of the Grafana dashboard returns a series. (The rules' firing and not firing are
 * promtool unit tests: test/helm/alerts.test.yaml.)
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { eventually } from '../support/eventually';
import { CHART, CLUSTER_POLL, FULLNAME, gatewayPods, helm, NAMESPACE, RELEASE, ROOT, run, serviceUrl, VALUES } from './support/cluster';
import { registerClient, seedTokens, startLoad, summary } from './support/load';
import { byKind, startPrometheus, type Prometheus } from './support/prometheus';

const JOB = `${FULLNAME}-management`;

/** The metric names of docs/api.md's Metrics table (its first column). */
function documentedFamilies(): string[] {
  const api = readFileSync(join(ROOT, 'docs', 'api.md'), 'utf8');
  const section = api.slice(api.indexOf('### Metrics'), api.indexOf('### Logs'));
  return section
    .split('\n')
    .filter((line) => line.startsWith('| `revgw_'))
    .flatMap((line) => [...line.split('|')[1].matchAll(/`(revgw_[a-z0-9_]+)`/g)].map((m) => m[1]));
}

describe('a real Prometheus on the release', () => {
  let prometheus: Prometheus;
  let manifests: Record<string, any>;

  beforeAll(async () => {
    await run('kubectl', ['apply', '-f', join(__dirname, 'prometheus-rbac.yaml')]);
    const token = (await run('kubectl', ['--namespace', 'monitoring', 'create', 'token', 'prometheus', '--duration', '1h'])).trim();
    // The release's own values, with the monitoring objects the cluster has no operator (CRDs) for.
    manifests = byKind(
      await helm(
        'template',
        RELEASE,
        CHART,
        '--values',
        VALUES,
        '--set',
        'metrics.serviceMonitor.enabled=true',
        '--set',
        'metrics.serviceMonitor.interval=5s',
        '--set',
        'metrics.serviceMonitor.scrapeTimeout=4s',
        '--set',
        'metrics.prometheusRule.enabled=true',
      ),
    );
    prometheus = await startPrometheus(manifests, token);
    // Some traffic for the rates: revocations and refused client authentications.
    await registerClient(await serviceUrl(`${FULLNAME}-management`));
    await seedTokens('prometheus', 6000);
    const publicUrl = await serviceUrl(FULLNAME);
    const load = startLoad(publicUrl, 'prometheus', 100, 6000);
    try {
      for (let i = 0; i < 5; i++) {
        await fetch(`${publicUrl}/token/revoke`, {
          method: 'POST',
          headers: { authorization: `Basic ${Buffer.from('k8s-tpp:wrong-secret').toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
          body: 'token=x',
        });
      }
      await eventually(
        async () => (await prometheus.query(`count_over_time(up{job="${JOB}"}[1m]) >= 2`)).length === 2,
        120_000,
        'both gateway pods scraped twice',
        CLUSTER_POLL,
      );
      await new Promise((resolve) => setTimeout(resolve, 15_000));
    } finally {
      console.log(`prometheus load: ${summary(await load.stop())}`);
    }
  });

  afterAll(async () => {
    await prometheus?.stop();
  });

  it("discovers exactly the gateway pods' management port through the ServiceMonitor's selector, and scrapes them", async () => {
    const { activeTargets } = await prometheus.get<{ activeTargets: any[] }>('/api/v1/targets?state=active');
    const pods = (await gatewayPods()).map((pod) => pod.name).sort();
    expect(activeTargets.map((t) => t.labels.pod).sort()).toEqual(pods);
    for (const target of activeTargets) {
      expect(target).toMatchObject({ health: 'up', labels: { job: JOB, namespace: NAMESPACE, service: JOB, endpoint: 'management' } });
      expect(target.scrapeUrl).toMatch(/^http:\/\/10\.244\.0\.\d+:9464\/metrics$/);
    }
  });

  it('ingests every revgw_* family of docs/api.md from both pods', async () => {
    const families = documentedFamilies();
    expect(families.length).toBeGreaterThan(15);
    const missing: string[] = [];
    for (const family of families) {
      const pods = await prometheus.query(`count by (pod) ({__name__=~"${family}(_bucket|_sum|_count)?",job="${JOB}"})`);
      if (pods.length !== 2) missing.push(`${family} (${pods.length} pods)`);
    }
    expect(missing).toEqual([]);
  });

  it("loads the chart's PrometheusRule and evaluates every rule without error", async () => {
    const chartAlerts = manifests.PrometheusRule.spec.groups.flatMap((g: any) => g.rules.map((r: any) => r.alert));
    const rules = await eventually(
      async () => {
        const { groups } = await prometheus.get<{ groups: any[] }>('/api/v1/rules');
        const all = groups.flatMap((g) => g.rules);
        return all.length > 0 && all.every((r) => !r.lastEvaluation.startsWith('0001')) ? all : undefined;
      },
      120_000,
      'every rule evaluated',
      CLUSTER_POLL,
    );
    expect(rules.map((r: any) => r.name).sort()).toEqual([...chartAlerts].sort());
    expect(rules.filter((r: any) => r.health !== 'ok').map((r: any) => `${r.name}: ${r.lastError}`)).toEqual([]);
    // A healthy release under light load: no rule even pending.
    expect(rules.filter((r: any) => r.state !== 'inactive').map((r: any) => `${r.name}: ${r.state}`)).toEqual([]);
  });

  it('answers every query of the Grafana dashboard with at least one series', async () => {
    const dashboard = JSON.parse(readFileSync(join(CHART, 'dashboards', 'fapi-revocation-gateway.json'), 'utf8'));
    const targets: Array<{ panel: string; expr: string }> = [];
    const walk = (panels: any[]) => {
      for (const panel of panels) {
        walk(panel.panels ?? []);
        for (const target of panel.targets ?? []) targets.push({ panel: panel.title, expr: target.expr });
      }
    };
    walk(dashboard.panels);
    expect(targets.length).toBeGreaterThan(20);
    const empty: string[] = [];
    for (const { panel, expr } of targets) {
      const query = expr.replaceAll('$namespace', NAMESPACE).replaceAll('$job', JOB).replaceAll('$__rate_interval', '1m');
      if ((await prometheus.query(query)).length === 0) empty.push(`${panel}: ${expr}`);
    }
    expect(empty).toEqual([]);
    // The dashboard's variables resolve too.
    for (const variable of dashboard.templating.list.filter((v: any) => v.type === 'query')) {
      const metric = /label_values\(([^,]+),/.exec(variable.definition)![1].replaceAll('$namespace', NAMESPACE);
      expect({ variable: variable.name, series: (await prometheus.query(metric)).length }).toEqual({ variable: variable.name, series: 2 });
    }
  });
});
