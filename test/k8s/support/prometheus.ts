/**
 * A real Prometheus (Debian's) for step 5: the chart's ServiceMonitor translated into the scrape
 * configuration the Prometheus Operator would generate from it (Kubernetes service discovery of
 * EndpointSlices, the selector's labels kept, the operator's target labels), and the chart's
 * PrometheusRule as its rule file. It reads the API server as a ServiceAccount with a read-only role.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAllDocuments, stringify } from 'yaml';
import { eventually } from '../../support/eventually';
import { CLUSTER_POLL } from './cluster';

export interface Prometheus {
  url: string;
  query(expr: string): Promise<Array<{ metric: Record<string, string>; value: [number, string] }>>;
  get<T = any>(path: string): Promise<T>;
  stop(): Promise<void>;
}

const snake = (key: string) => key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
const metaLabel = (label: string) => `__meta_kubernetes_service_label_${label.replace(/[^a-zA-Z0-9_]/g, '_')}`;

/** The chart's rendered manifests, by kind. */
export function byKind(rendered: string): Record<string, any> {
  const out: Record<string, any> = {};
  for (const doc of parseAllDocuments(rendered)) {
    const value = doc.toJS();
    if (value?.kind) out[value.kind] = value;
  }
  return out;
}

/** What the Prometheus Operator makes of a ServiceMonitor (one scrape job per endpoint). */
export function scrapeConfigs(serviceMonitor: any, apiServer: string, caFile: string, tokenFile: string): unknown[] {
  const { selector, endpoints, namespaceSelector } = serviceMonitor.spec;
  return endpoints.map((endpoint: any, i: number) => ({
    job_name: `serviceMonitor/${serviceMonitor.metadata.namespace}/${serviceMonitor.metadata.name}/${i}`,
    scrape_interval: endpoint.interval,
    scrape_timeout: endpoint.scrapeTimeout,
    metrics_path: endpoint.path ?? '/metrics',
    scheme: endpoint.scheme ?? 'http',
    kubernetes_sd_configs: [
      {
        role: 'endpointslice',
        api_server: apiServer,
        namespaces: { names: namespaceSelector?.matchNames ?? [serviceMonitor.metadata.namespace] },
        authorization: { credentials_file: tokenFile },
        tls_config: { ca_file: caFile },
      },
    ],
    relabel_configs: [
      ...Object.entries(selector.matchLabels ?? {}).map(([label, value]) => ({ source_labels: [metaLabel(label)], regex: value, action: 'keep' })),
      { source_labels: ['__meta_kubernetes_endpointslice_port_name'], regex: endpoint.port, action: 'keep' },
      { source_labels: ['__meta_kubernetes_namespace'], target_label: 'namespace' },
      { source_labels: ['__meta_kubernetes_service_name'], target_label: 'service' },
      { source_labels: ['__meta_kubernetes_pod_name'], target_label: 'pod' },
      { source_labels: ['__meta_kubernetes_pod_container_name'], target_label: 'container' },
      { source_labels: ['__meta_kubernetes_service_name'], target_label: 'job' },
      { target_label: 'endpoint', replacement: endpoint.port },
      ...(endpoint.relabelings ?? []).map((r: Record<string, unknown>) => Object.fromEntries(Object.entries(r).map(([k, v]) => [snake(k), v]))),
    ],
    metric_relabel_configs: (endpoint.metricRelabelings ?? []).map((r: Record<string, unknown>) =>
      Object.fromEntries(Object.entries(r).map(([k, v]) => [snake(k), v])),
    ),
  }));
}

export async function startPrometheus(manifests: Record<string, any>, token: string, port = 19090): Promise<Prometheus> {
  const dir = mkdtempSync(join(tmpdir(), 'revgw-prometheus-'));
  writeFileSync(join(dir, 'token'), token, { mode: 0o600 });
  writeFileSync(join(dir, 'rules.yaml'), stringify(manifests.PrometheusRule.spec));
  const apiServer = `https://${process.env.REVGW_K8S_NODE_IP}:6443`;
  const caFile = `${process.env.REVGW_K8S_STATE}/pki/ca.crt`;
  writeFileSync(
    join(dir, 'prometheus.yml'),
    stringify({
      global: { evaluation_interval: '5s' },
      rule_files: [join(dir, 'rules.yaml')],
      scrape_configs: scrapeConfigs(manifests.ServiceMonitor, apiServer, caFile, join(dir, 'token')),
    }),
  );
  const url = `http://127.0.0.1:${port}`;
  // Debian's prometheus has no Kubernetes discovery: run.sh builds one (test/k8s/ensure-prometheus.sh).
  const child: ChildProcess = spawn(
    process.env.PROMETHEUS_BIN ?? 'prometheus',
    [`--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let log = '';
  child.stderr!.on('data', (chunk: Buffer) => (log = (log + chunk.toString()).slice(-20_000)));
  const get = async <T>(path: string): Promise<T> => {
    const response = await fetch(url + path);
    const body = (await response.json()) as { status: string; data: T; error?: string };
    if (body.status !== 'success') throw new Error(`prometheus ${path}: ${body.error}`);
    return body.data;
  };
  await eventually(async () => (await fetch(`${url}/-/ready`)).ok, 30_000, 'Prometheus to be ready', CLUSTER_POLL).catch((error: Error) => {
    child.kill('SIGKILL');
    throw new Error(`${error.message}\n${log}`);
  });
  return {
    url,
    get,
    query: async (expr) => (await get<{ result: any[] }>(`/api/v1/query?query=${encodeURIComponent(expr)}`)).result,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    },
  };
}
