/**
 * What the chart's cluster tests drive: kubectl and helm (the pinned builds test/k8s/run.sh put
 * on PATH and in HELM_BIN), the release's names and addresses, and the database the chart uses.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { Client } from 'pg';

export const ROOT = join(__dirname, '..', '..', '..');
export const CHART = join(ROOT, 'helm', 'fapi-revocation-gateway');
export const VALUES = join(CHART, 'ci', 'k8s-values.yaml');
export const NAMESPACE = 'revgw';
export const RELEASE = 'revgw';
export const FULLNAME = `${RELEASE}-fapi-revocation-gateway`;
export const ADMIN_TOKEN = 'k8s-test-admin-token-0123456789';

const env = (name: string): string => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run the cluster tests with npm run test:k8s`);
  return value;
};

/** Runs a command; its stdout, or an error naming the command with what it printed. */
export function run(command: string, args: string[], timeoutMs = 300_000): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(command, args, { timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${command} ${args.join(' ')} failed: ${error.message}\n${stdout}\n${stderr}`.trim()));
      else resolve(stdout);
    });
  });
}

export const kubectl = (...args: string[]) => run('kubectl', ['--namespace', NAMESPACE, ...args]);
export const helm = (...args: string[]) => run(env('HELM_BIN'), ['--namespace', NAMESPACE, ...args], 900_000);

export async function json<T = any>(...args: string[]): Promise<T> {
  return JSON.parse(await kubectl(...args, '-o', 'json')) as T;
}

/** http://<ClusterIP>:<port> of one of the release's Services (the node reaches it through kube-proxy). */
export async function serviceUrl(name: string): Promise<string> {
  const service = await json('get', 'service', name);
  return `http://${service.spec.clusterIP}:${service.spec.ports[0].port}`;
}

/** The release's gateway pods (not the hooks' or tests' pods), with readiness. */
export async function gatewayPods(): Promise<Array<{ name: string; ready: boolean; uid: string; deleting: boolean }>> {
  const list = await json('get', 'pods', '-l', `app.kubernetes.io/instance=${RELEASE},app.kubernetes.io/component=gateway`);
  return list.items.map((pod: any) => ({
    name: pod.metadata.name,
    uid: pod.metadata.uid,
    deleting: Boolean(pod.metadata.deletionTimestamp),
    ready: (pod.status.conditions ?? []).some((c: any) => c.type === 'Ready' && c.status === 'True'),
  }));
}

export async function sql<T = any>(text: string, values?: unknown[]): Promise<T[]> {
  const client = new Client({ connectionString: env('REVGW_K8S_DATABASE_URL') });
  await client.connect();
  try {
    return (await client.query(text, values)).rows as T[];
  } finally {
    await client.end();
  }
}

/** The admin API on the management Service (docs/api.md §9). */
export async function admin(managementUrl: string, method: string, path: string, body?: unknown): Promise<unknown> {
  const response = await fetch(managementUrl + path, {
    method,
    headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  if (response.status >= 300) throw new Error(`admin ${method} ${path}: ${response.status} ${text}`);
  return text ? JSON.parse(text) : undefined;
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** How the cluster tests poll: once a second, and a kubectl or fetch that fails (a pod restarting) is a "not yet". */
export const CLUSTER_POLL = { intervalMs: 1000, retryErrors: true };
