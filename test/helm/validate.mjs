// Renders the Helm chart for every ci/*-values.yaml scenario and checks what it renders, offline:
//   - `helm lint --strict` and `helm template` per scenario (and at the oldest supported Kubernetes);
//   - every object against the Kubernetes OpenAPI schemas shipped by kubernetes-models (and
//     @kubernetes-models/prometheus-operator for ServiceMonitor/PrometheusRule); unknown kinds fail;
//   - unknown or misplaced fields, which those schemas let through, by type-checking every object
//     against the same models' TypeScript interfaces (excess-property checks);
//   - the properties that matter for this gateway (hardened pods, hooks, ports, selectors, alerts);
//   - that the gateway's own config loader (dist/src/config/config.js) accepts the environment the
//     chart gives its pods and its migration Job, and that the chart's render-time checks refuse
//     exactly what the gateway would refuse at start.
// Run by `npm run test:helm` (test/helm/check-chart.sh), which provides HELM_BIN and builds dist/.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parser as promql } from '@prometheus-io/lezer-promql';
import ts from 'typescript';
import { isMap, parseAllDocuments, parseDocument } from 'yaml';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const chart = join(root, 'helm/fapi-revocation-gateway');
const helmBin = process.env.HELM_BIN;
if (!helmBin) throw new Error('HELM_BIN is not set: run `npm run test:helm`');
// The gateway's own loader, as the image runs it (`npm run build`; test/helm/check-chart.sh builds it).
const { loadConfig, ConfigError } = createRequire(import.meta.url)(join(root, 'dist/src/config/config.js'));

const NAMESPACE = 'revgw';
const RELEASE = 'revgw';
const KUBE_VERSION = '1.34.0'; // helm v3.19's client-go
const MIN_KUBE_VERSION = '1.30.0'; // Chart.yaml kubeVersion
const API_METRICS = {
  // docs/api.md §10 and §6: metric → its labels.
  revgw_http_requests_total: ['profile', 'status'],
  revgw_http_request_duration_seconds_bucket: ['profile', 'le'],
  revgw_tokens_revoked_total: ['token_type', 'cause'],
  revgw_upstream_requests_total: ['outcome'],
  revgw_throttled_requests_total: ['scope'],
  revgw_client_auth_failures_total: ['method'],
  revgw_fapi_header_rejections_total: ['header'],
  revgw_outbox_pending: [],
  revgw_outbox_dead: [],
  revgw_outbox_dead_letters_total: [],
  // docs/api.md §10, §12.
  revgw_set_deliveries_total: ['method', 'outcome'],
  revgw_set_pending: [],
  revgw_set_delivery_lag_seconds_bucket: ['le'],
};
const TARGET_LABELS = ['namespace', 'job', 'pod', 'instance', 'service', 'container', 'endpoint'];
const STANDARD_LABELS = [
  'app.kubernetes.io/name',
  'app.kubernetes.io/instance',
  'app.kubernetes.io/version',
  'app.kubernetes.io/component',
  'app.kubernetes.io/part-of',
  'app.kubernetes.io/managed-by',
  'helm.sh/chart',
];
/** apiVersion group → the npm package shipping its models; anything else is an unknown kind. */
const MODEL_PACKAGES = {
  '': 'kubernetes-models',
  apps: 'kubernetes-models',
  batch: 'kubernetes-models',
  autoscaling: 'kubernetes-models',
  policy: 'kubernetes-models',
  'networking.k8s.io': 'kubernetes-models',
  'monitoring.coreos.com': '@kubernetes-models/prometheus-operator',
};

// ---------------------------------------------------------------------------------------------
// helm

function helm(args) {
  return spawnSync(helmBin, args, { cwd: root, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
}

function template(valuesFiles, extra = []) {
  const args = ['template', RELEASE, chart, '--namespace', NAMESPACE, '--kube-version', KUBE_VERSION];
  for (const file of valuesFiles) args.push('-f', file);
  return helm([...args, ...extra]);
}

function render(valuesFiles, extra = []) {
  const result = template(valuesFiles, extra);
  assert.equal(result.status, 0, `helm template failed:\n${result.stderr}`);
  return parseManifests(result.stdout);
}

function parseManifests(text) {
  const objects = [];
  for (const doc of parseAllDocuments(text)) {
    if (doc.errors.length) throw new Error(`rendered YAML does not parse: ${doc.errors[0].message}`);
    const object = doc.toJS();
    if (object != null) objects.push(object);
  }
  return objects;
}

// ---------------------------------------------------------------------------------------------
// schemas

const modelCache = new Map();
async function modelFor(object) {
  const { apiVersion, kind } = object;
  assert.ok(apiVersion && kind, `object without apiVersion/kind: ${JSON.stringify(object).slice(0, 200)}`);
  const [group, version] = apiVersion.includes('/') ? apiVersion.split('/') : ['', apiVersion];
  const pkg = MODEL_PACKAGES[group];
  assert.ok(pkg, `unknown kind ${apiVersion} ${kind}: no schema for API group "${group}"`);
  const specifier = `${pkg}/${group ? `${group}/` : ''}${version}/${kind}`;
  if (!modelCache.has(specifier)) {
    let module;
    try {
      module = await import(specifier);
    } catch {
      throw new assert.AssertionError({ message: `unknown kind ${apiVersion} ${kind}: ${specifier} does not exist` });
    }
    const Model = module[kind];
    assert.ok(Model && Model.apiVersion === apiVersion && Model.kind === kind, `no model for ${apiVersion} ${kind}`);
    modelCache.set(specifier, { Model, specifier });
  }
  return modelCache.get(specifier);
}

/** Type-checks objects against the models' interfaces: unknown fields fail (the schemas allow them). */
function typeCheck(entries) {
  const file = join(root, 'test/helm/__rendered__.ts'); // virtual: never written to disk
  const lines = [];
  const imports = new Map();
  entries.forEach(({ object, specifier, where }, i) => {
    const name = `I${object.kind}`;
    const alias = `T${imports.size}`;
    if (!imports.has(specifier)) imports.set(specifier, alias);
    lines.push(`// ${where}`, `export const o${i}: ${imports.get(specifier)}.${name} = ${JSON.stringify(object, null, 1)};`);
  });
  const source = [...[...imports].map(([spec, alias]) => `import type * as ${alias} from '${spec}';`), ...lines].join('\n');
  const options = {
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    module: ts.ModuleKind.Preserve,
    moduleResolution: ts.ModuleResolutionKind.Bundler,
    target: ts.ScriptTarget.ES2022,
    types: [],
  };
  const host = ts.createCompilerHost(options);
  const getSourceFile = host.getSourceFile.bind(host);
  host.getSourceFile = (name, languageVersion, ...rest) =>
    resolve(name) === file ? ts.createSourceFile(name, source, languageVersion, true) : getSourceFile(name, languageVersion, ...rest);
  const fileExists = host.fileExists.bind(host);
  host.fileExists = (name) => resolve(name) === file || fileExists(name);
  const program = ts.createProgram({ rootNames: [file], options, host });
  const diagnostics = ts.getPreEmitDiagnostics(program);
  return diagnostics.map((d) => {
    const message = ts.flattenDiagnosticMessageText(d.messageText, '\n');
    if (!d.file || d.file.fileName !== file) return message;
    const { line } = d.file.getLineAndCharacterOfPosition(d.start ?? 0);
    const text = d.file.text.split('\n');
    let header = line;
    while (header > 0 && !text[header].startsWith('// ')) header--;
    return `${text[header].slice(3)} line ${line - header}: ${text[line].trim()}\n  ${message}`;
  });
}

// ---------------------------------------------------------------------------------------------
// PromQL

function parsePromql(expr) {
  const tree = promql.parse(expr);
  const selectors = [];
  let error = false;
  tree.iterate({
    enter(node) {
      if (node.type.isError) error = true;
      if (node.type.name === 'VectorSelector') {
        const metric = node.node.getChild('Identifier');
        const matchers = [];
        const labelMatchers = node.node.getChild('LabelMatchers');
        if (labelMatchers) {
          for (const m of labelMatchers.getChildren('UnquotedLabelMatcher')) {
            const label = m.getChild('LabelName');
            if (label) matchers.push(expr.slice(label.from, label.to));
          }
        }
        selectors.push({ metric: metric ? expr.slice(metric.from, metric.to) : undefined, matchers });
      }
    },
  });
  return { error, selectors };
}

function checkPromql(expr, where) {
  const { error, selectors } = parsePromql(expr);
  assert.ok(!error, `${where}: PromQL does not parse: ${expr}`);
  const metrics = [];
  for (const { metric, matchers } of selectors) {
    assert.ok(metric, `${where}: selector without a metric name: ${expr}`);
    metrics.push(metric);
    if (metric.startsWith('revgw_')) {
      const labels = API_METRICS[metric];
      assert.ok(labels, `${where}: ${metric} is not a gateway metric (docs/api.md §10)`);
      for (const label of matchers) {
        assert.ok(labels.includes(label) || TARGET_LABELS.includes(label), `${where}: ${metric} has no label "${label}"`);
      }
    } else {
      assert.match(metric, /^(up|process_\w+|nodejs_\w+)$/, `${where}: unexpected metric ${metric}`);
    }
  }
  return metrics;
}

// ---------------------------------------------------------------------------------------------
// helpers over rendered objects

const byKind = (objects, kind) => objects.filter((o) => o.kind === kind);
const one = (objects, kind, predicate = () => true) => {
  const found = byKind(objects, kind).filter(predicate);
  assert.equal(found.length, 1, `expected exactly one ${kind}, found ${found.length}`);
  return found[0];
};
const matches = (selector, labels) => Object.entries(selector).every(([k, v]) => labels?.[k] === v);
const annotations = (o) => o.metadata?.annotations ?? {};
const isHook = (o) => 'helm.sh/hook' in annotations(o);
const hookWeight = (o) => Number(annotations(o)['helm.sh/hook-weight'] ?? 0);
/** Every pod spec with where it comes from: Deployments, Jobs and bare Pods. */
function podSpecs(objects) {
  const pods = [];
  for (const o of objects) {
    if (o.kind === 'Deployment' || o.kind === 'Job') pods.push({ owner: o, labels: o.spec.template.metadata?.labels, spec: o.spec.template.spec });
    if (o.kind === 'Pod') pods.push({ owner: o, labels: o.metadata.labels, spec: o.spec });
  }
  return pods;
}
const gatewayDeployment = (objects) => one(objects, 'Deployment');
const gatewayContainer = (objects) => gatewayDeployment(objects).spec.template.spec.containers.find((c) => c.name === 'gateway');
const publicService = (objects) => one(objects, 'Service', (s) => s.metadata.labels['app.kubernetes.io/component'] === 'gateway');
const managementService = (objects) => one(objects, 'Service', (s) => s.metadata.labels['app.kubernetes.io/component'] === 'management');
const envOf = (container, name) => container.env?.find((e) => e.name === name);

// ---------------------------------------------------------------------------------------------
// scenarios

const scenarioFiles = readdirSync(join(chart, 'ci'))
  .filter((f) => f.endsWith('-values.yaml'))
  .sort();
const scenarios = new Map(); // name → rendered objects
const typeCheckEntries = [];

before(async () => {
  assert.ok(scenarioFiles.length >= 5, 'expected the ci/*-values.yaml scenarios');
  for (const file of scenarioFiles) {
    const objects = render([join(chart, 'ci', file)]);
    scenarios.set(basename(file, '-values.yaml'), objects);
  }
});

describe('helm lint --strict', () => {
  for (const file of scenarioFiles) {
    test(`ci/${file}`, () => {
      const result = helm(['lint', '--strict', chart, '-f', join(chart, 'ci', file), '--kube-version', KUBE_VERSION]);
      const output = `${result.stdout}\n${result.stderr}`;
      assert.equal(result.status, 0, output);
      // helm lint logs a template `fail` as INFO and still passes: not good enough here.
      assert.doesNotMatch(output, /\bFail:|\[(WARNING|ERROR)\]/, output);
    });
  }
});

describe('every rendered object', () => {
  for (const file of scenarioFiles) {
    const name = basename(file, '-values.yaml');
    test(`${name}: validates against the Kubernetes / prometheus-operator schemas`, async () => {
      const objects = scenarios.get(name);
      assert.ok(objects.length > 0);
      for (const object of objects) {
        const { Model, specifier } = await modelFor(object);
        const where = `${name}: ${object.kind}/${object.metadata?.name}`;
        try {
          new Model(object).validate();
        } catch (error) {
          throw new assert.AssertionError({ message: `${where} is invalid: ${error.message}` });
        }
        typeCheckEntries.push({ object, specifier, where });
      }
    });

    test(`${name}: carries the standard labels, in the release namespace`, () => {
      for (const object of scenarios.get(name)) {
        const where = `${object.kind}/${object.metadata.name}`;
        for (const label of STANDARD_LABELS) assert.ok(object.metadata.labels?.[label], `${where} lacks label ${label}`);
        assert.equal(object.metadata.labels['app.kubernetes.io/instance'], RELEASE);
        assert.equal(object.metadata.labels['app.kubernetes.io/managed-by'], 'Helm');
        if (!(object.kind === 'ConfigMap' && object.metadata.labels.grafana_dashboard)) {
          assert.equal(object.metadata.namespace, NAMESPACE, `${where} namespace`);
        }
      }
      for (const { owner, labels } of podSpecs(scenarios.get(name))) {
        for (const label of STANDARD_LABELS) assert.ok(labels?.[label], `pods of ${owner.kind}/${owner.metadata.name} lack label ${label}`);
      }
    });
  }

  test('has no unknown or misplaced fields (TypeScript interfaces of the same models)', () => {
    assert.ok(typeCheckEntries.length > 0, 'schema tests ran first');
    const problems = typeCheck(typeCheckEntries);
    assert.deepEqual(problems, [], problems.join('\n'));
  });
});

describe('pods are hardened', () => {
  for (const file of scenarioFiles) {
    const name = basename(file, '-values.yaml');
    test(name, () => {
      const pods = podSpecs(scenarios.get(name));
      assert.ok(pods.some((p) => p.owner.kind === 'Deployment') && pods.some((p) => p.owner.kind === 'Pod'));
      for (const { owner, spec } of pods) {
        const where = `${owner.kind}/${owner.metadata.name}`;
        assert.equal(spec.automountServiceAccountToken, false, `${where}: automountServiceAccountToken`);
        assert.equal(spec.securityContext?.runAsNonRoot, true, `${where}: pod runAsNonRoot`);
        assert.equal(spec.securityContext?.seccompProfile?.type, 'RuntimeDefault', `${where}: seccompProfile`);
        assert.ok(spec.securityContext.runAsUser > 0, `${where}: numeric non-root runAsUser`);
        const tmp = spec.volumes?.find((v) => v.name === 'tmp');
        assert.ok(tmp?.emptyDir, `${where}: emptyDir volume for /tmp`);
        for (const container of [...(spec.initContainers ?? []), ...spec.containers]) {
          const sc = container.securityContext ?? {};
          const at = `${where}/${container.name}`;
          assert.equal(sc.allowPrivilegeEscalation, false, `${at}: allowPrivilegeEscalation`);
          assert.equal(sc.readOnlyRootFilesystem, true, `${at}: readOnlyRootFilesystem`);
          assert.notEqual(sc.privileged, true, `${at}: privileged`);
          assert.ok(sc.capabilities?.drop?.includes('ALL'), `${at}: capabilities.drop ALL`);
          assert.deepEqual(sc.capabilities?.add ?? [], [], `${at}: no added capabilities`);
          assert.notEqual(sc.runAsNonRoot, false, `${at}: runAsNonRoot`);
          assert.ok(
            container.volumeMounts?.some((m) => m.name === 'tmp' && m.mountPath === '/tmp'),
            `${at}: /tmp mounted`,
          );
          assert.ok(container.resources?.requests && container.resources?.limits?.memory, `${at}: requests and memory limit`);
        }
      }
    });
  }
});

describe('gateway Deployment', () => {
  for (const file of scenarioFiles) {
    const name = basename(file, '-values.yaml');
    test(`${name}: ports, probes on the management port, graceful shutdown, config checksums`, () => {
      const objects = scenarios.get(name);
      const deployment = gatewayDeployment(objects);
      const pod = deployment.spec.template;
      const container = gatewayContainer(objects);
      assert.deepEqual(container.command, ['node', 'dist/src/main.js']);
      const ports = Object.fromEntries(container.ports.map((p) => [p.name, p.containerPort]));
      assert.deepEqual(Object.keys(ports).sort(), ['http', 'management']);
      const configMap = one(objects, 'ConfigMap', (c) => c.metadata.name === container.envFrom[0].configMapRef.name);
      assert.equal(String(ports.http), configMap.data.PORT);
      assert.equal(String(ports.management), configMap.data.MANAGEMENT_PORT);
      for (const probe of ['startupProbe', 'livenessProbe', 'readinessProbe']) {
        const port = container[probe]?.httpGet?.port;
        assert.ok(port === 'management' || port === ports.management, `${probe} must use the management port, got ${port}`);
      }
      assert.equal(container.readinessProbe.httpGet.path, '/health/ready');
      assert.equal(container.livenessProbe.httpGet.path, '/health/live');
      const preStop = container.lifecycle?.preStop?.sleep?.seconds ?? 0;
      assert.ok(preStop > 0, 'preStop sleep');
      const graceMs = Number(configMap.data.SHUTDOWN_GRACE_MS);
      assert.ok(pod.spec.terminationGracePeriodSeconds * 1000 > preStop * 1000 + graceMs, 'terminationGracePeriodSeconds > preStop + SHUTDOWN_GRACE_MS');
      assert.ok(pod.metadata.annotations?.['checksum/config'], 'checksum/config');
      const chartSecret = byKind(objects, 'Secret').find((s) => !isHook(s));
      assert.equal(Boolean(pod.metadata.annotations['checksum/secret']), Boolean(chartSecret), 'checksum/secret iff the chart renders the Secret');
      assert.equal(pod.spec.enableServiceLinks, false);
      assert.ok(matches(deployment.spec.selector.matchLabels, pod.metadata.labels), 'selector matches the pod labels');
    });

    test(`${name}: no replicas when the HPA is on, replicas otherwise`, () => {
      const objects = scenarios.get(name);
      const deployment = gatewayDeployment(objects);
      const hpas = byKind(objects, 'HorizontalPodAutoscaler');
      if (hpas.length) {
        assert.equal(deployment.spec.replicas, undefined, 'Deployment must omit replicas under an HPA');
        assert.deepEqual(hpas[0].spec.scaleTargetRef, { apiVersion: 'apps/v1', kind: 'Deployment', name: deployment.metadata.name });
      } else {
        assert.ok(Number.isInteger(deployment.spec.replicas));
      }
      // Replicas share the jti replay store: in Redis when configured, else in the one PostgreSQL.
      const shared = envOf(gatewayContainer(objects), 'REDIS_URL') ?? envOf(gatewayContainer(objects), 'DATABASE_URL');
      assert.ok(shared, 'replicas need a shared replay store');
    });

    test(`${name}: configuration — external database from a Secret, never migrations at start`, () => {
      const objects = scenarios.get(name);
      const container = gatewayContainer(objects);
      const configMap = one(objects, 'ConfigMap', (c) => c.metadata.name === container.envFrom[0].configMapRef.name);
      assert.equal(configMap.data.MIGRATIONS_RUN, 'false');
      assert.match(configMap.data.ISSUER, /^https?:\/\//);
      for (const key of [
        'DATABASE_URL',
        'REDIS_URL',
        'ADMIN_API_TOKEN',
        'AUTHZ_CHECK_TOKEN',
        'UPSTREAM_CLIENT_SECRET',
        'TOKEN_ENCRYPTION_KEY',
        'SIGNING_KEY',
        'SIGNING_KEY_PREVIOUS',
        'DATA_DIR',
      ]) {
        assert.ok(!(key in configMap.data), `ConfigMap must not carry ${key}`);
        const env = envOf(container, key);
        if (env) assert.ok(env.valueFrom?.secretKeyRef, `${key} must come from a Secret`);
      }
      const database = envOf(container, 'DATABASE_URL');
      assert.ok(database?.valueFrom?.secretKeyRef, 'DATABASE_URL from a Secret');
      assert.notEqual(database.valueFrom.secretKeyRef.optional, true, 'DATABASE_URL must not be optional (no embedded database)');
      // Every reference into a Secret the chart renders names a key that Secret has.
      for (const env of container.env ?? []) {
        const ref = env.valueFrom?.secretKeyRef;
        if (!ref) continue;
        const secret = byKind(objects, 'Secret').find((s) => s.metadata.name === ref.name && !isHook(s));
        if (secret) assert.ok(ref.key in (secret.data ?? {}), `${env.name}: Secret ${ref.name} has no key ${ref.key}`);
      }
      if (configMap.data.UPSTREAM_REVOCATION_URL) {
        const key = envOf(container, 'TOKEN_ENCRYPTION_KEY');
        assert.ok(key?.valueFrom?.secretKeyRef && key.valueFrom.secretKeyRef.optional !== true, 'upstream needs TOKEN_ENCRYPTION_KEY');
      }
      // docs/api.md §12.2: event streams seal receiver credentials with the key, upstream or not.
      if (name === 'events') {
        assert.equal(configMap.data.UPSTREAM_REVOCATION_URL, undefined);
        assert.ok(envOf(container, 'TOKEN_ENCRYPTION_KEY')?.valueFrom?.secretKeyRef, 'TOKEN_ENCRYPTION_KEY without upstream');
        assert.equal(configMap.data.SSF_PUSH_TIMEOUT_MS, '3000');
        assert.equal(configMap.data.SSF_RETENTION_S, '86400');
      }
    });
  }
});

describe('Services, PDB and NetworkPolicy', () => {
  for (const file of scenarioFiles) {
    const name = basename(file, '-values.yaml');
    test(`${name}: the management port is never in the public Service`, () => {
      const objects = scenarios.get(name);
      const container = gatewayContainer(objects);
      const managementPort = container.ports.find((p) => p.name === 'management').containerPort;
      const pub = publicService(objects);
      for (const port of pub.spec.ports) {
        assert.notEqual(port.targetPort, 'management');
        assert.notEqual(port.targetPort, managementPort);
        assert.notEqual(port.port, managementPort);
      }
      assert.deepEqual(
        pub.spec.ports.map((p) => p.targetPort),
        ['http'],
      );
      const mgmt = managementService(objects);
      assert.equal(mgmt.spec.type, 'ClusterIP');
      assert.deepEqual(
        mgmt.spec.ports.map((p) => p.targetPort),
        ['management'],
      );
      assert.equal(byKind(objects, 'Service').length, 2);
    });

    test(`${name}: selectors pick the gateway pods and never the migration or test pods`, () => {
      const objects = scenarios.get(name);
      const gatewayLabels = gatewayDeployment(objects).spec.template.metadata.labels;
      const otherPods = podSpecs(objects).filter((p) => p.owner.kind !== 'Deployment');
      assert.ok(otherPods.length >= 1);
      const selectors = [
        ...byKind(objects, 'Service').map((s) => [`Service/${s.metadata.name}`, s.spec.selector]),
        ...byKind(objects, 'PodDisruptionBudget').map((p) => [`PDB/${p.metadata.name}`, p.spec.selector.matchLabels]),
        ...byKind(objects, 'NetworkPolicy').map((n) => [`NetworkPolicy/${n.metadata.name}`, n.spec.podSelector.matchLabels]),
      ];
      for (const [where, selector] of selectors) {
        assert.ok(matches(selector, gatewayLabels), `${where} must select the gateway pods`);
        for (const other of otherPods) assert.ok(!matches(selector, other.labels), `${where} must not select ${other.owner.kind}/${other.owner.metadata.name}`);
      }
    });

    test(`${name}: PDB and NetworkPolicy (management only from monitoring and the test pod)`, () => {
      const objects = scenarios.get(name);
      const pdb = one(objects, 'PodDisruptionBudget');
      assert.ok(pdb.spec.minAvailable !== undefined || pdb.spec.maxUnavailable !== undefined);
      const policy = one(objects, 'NetworkPolicy');
      assert.ok(policy.spec.policyTypes.includes('Ingress'));
      const rules = policy.spec.ingress;
      const ports = rules.flatMap((r) => r.ports.map((p) => p.port));
      assert.deepEqual([...ports].sort(), ['http', 'management'], 'one rule per port, nothing else open');
      const management = rules.find((r) => r.ports.some((p) => p.port === 'management'));
      assert.equal(management.ports.length, 1);
      assert.ok(management.from?.length > 0, 'management port must not be open to every source');
      const [monitoring, testPod] = management.from;
      assert.ok(monitoring.namespaceSelector && Object.keys(monitoring.namespaceSelector).length > 0, 'monitoring namespace peer');
      const testPodLabels = one(objects, 'Pod').metadata.labels;
      assert.ok(!testPod.namespaceSelector && matches(testPod.podSelector.matchLabels, testPodLabels), 'the helm test pod may reach /health/ready');
      for (const peer of management.from) assert.ok(!peer.ipBlock, 'no ipBlock on the management port by default');
      if (policy.spec.policyTypes.includes('Egress')) {
        assert.ok(
          policy.spec.egress.some((r) => r.ports?.some((p) => p.port === 53)),
          'egress allows DNS',
        );
      }
    });
  }
});

describe('migration Job', () => {
  for (const file of scenarioFiles) {
    const name = basename(file, '-values.yaml');
    test(`${name}: a pre-install/pre-upgrade hook with its own access to DATABASE_URL`, () => {
      const objects = scenarios.get(name);
      const job = one(objects, 'Job');
      const hook = annotations(job)['helm.sh/hook'];
      const hooks = hook.split(',').map((h) => h.trim());
      assert.ok(hooks.includes('pre-install') && hooks.includes('pre-upgrade'), `hook: ${hooks}`);
      assert.match(annotations(job)['helm.sh/hook-delete-policy'], /before-hook-creation/);
      const pod = job.spec.template.spec;
      assert.equal(pod.restartPolicy, 'Never');
      const [container] = pod.containers;
      assert.deepEqual(container.command, ['node', 'dist/src/database/migrate.js', 'run']);
      assert.equal(container.image, gatewayContainer(objects).image, 'same image as the gateway');
      assert.ok(
        !pod.serviceAccountName ||
          pod.serviceAccountName !== gatewayDeployment(objects).spec.template.spec.serviceAccountName ||
          !byKind(objects, 'ServiceAccount').length,
        'the chart ServiceAccount does not exist yet at pre-install',
      );
      // A pre-install hook runs before the chart's regular objects: it may only read a hook Secret
      // created before it (lower weight) or the user's existingSecret; never a regular ConfigMap.
      const ref = envOf(container, 'DATABASE_URL')?.valueFrom?.secretKeyRef;
      assert.ok(ref && ref.optional !== true, 'DATABASE_URL from a Secret');
      const rendered = byKind(objects, 'Secret').find((s) => s.metadata.name === ref.name);
      if (rendered) {
        assert.ok(isHook(rendered), `the Job reads Secret ${ref.name}, which is not a hook: it does not exist at pre-install`);
        const secretHooks = annotations(rendered)['helm.sh/hook'];
        assert.match(secretHooks, /pre-install/);
        assert.match(secretHooks, /pre-upgrade/);
        assert.ok(hookWeight(rendered) < hookWeight(job), 'hook Secret created before the Job');
        assert.ok(ref.key in rendered.data);
      } else {
        const gatewayRef = envOf(gatewayContainer(objects), 'DATABASE_URL').valueFrom.secretKeyRef;
        assert.deepEqual(ref, gatewayRef, 'without a rendered Secret the Job reads the existingSecret, like the pods');
      }
      for (const source of [...(container.envFrom ?? []), ...(pod.volumes ?? [])]) {
        const cm = source.configMapRef?.name ?? source.configMap?.name;
        if (cm)
          assert.ok(
            byKind(objects, 'ConfigMap').find((c) => c.metadata.name === cm && isHook(c)),
            `Job reads non-hook ConfigMap ${cm}`,
          );
      }
    });
  }

  test('existing-secret: no Secret rendered, every secret reference names the existingSecret', () => {
    const objects = scenarios.get('existing-secret');
    assert.equal(byKind(objects, 'Secret').length, 0);
    const refs = podSpecs(objects).flatMap(({ spec }) => spec.containers.flatMap((c) => (c.env ?? []).map((e) => e.valueFrom?.secretKeyRef).filter(Boolean)));
    assert.ok(refs.length >= 3);
    for (const ref of refs) assert.equal(ref.name, 'revgw-credentials');
    const container = gatewayContainer(objects);
    assert.equal(envOf(container, 'DATABASE_URL').valueFrom.secretKeyRef.key, 'database-url');
    assert.equal(envOf(container, 'REDIS_URL').valueFrom.secretKeyRef.key, 'redis-url');
  });

  test('migrations.enabled=false renders neither the Job nor its Secret', () => {
    const objects = render([join(chart, 'ci/default-values.yaml')], ['--set', 'migrations.enabled=false']);
    assert.equal(byKind(objects, 'Job').length, 0);
    assert.equal(byKind(objects, 'Secret').filter(isHook).length, 0);
  });
});

describe('monitoring', () => {
  test('ServiceMonitor scrapes /metrics on the management Service only', () => {
    const objects = scenarios.get('monitoring');
    const monitor = one(objects, 'ServiceMonitor');
    const mgmt = managementService(objects);
    assert.ok(matches(monitor.spec.selector.matchLabels, mgmt.metadata.labels), 'selects the management Service');
    assert.ok(!matches(monitor.spec.selector.matchLabels, publicService(objects).metadata.labels), 'not the public Service');
    assert.deepEqual(monitor.spec.namespaceSelector.matchNames, [NAMESPACE]);
    for (const endpoint of monitor.spec.endpoints) {
      assert.ok(
        mgmt.spec.ports.some((p) => p.name === endpoint.port),
        `endpoint port ${endpoint.port}`,
      );
      assert.equal(endpoint.path, '/metrics');
    }
  });

  test('PrometheusRule alerts parse and use only the gateway metrics and labels', () => {
    const objects = scenarios.get('monitoring');
    const rule = one(objects, 'PrometheusRule');
    const alerts = rule.spec.groups.flatMap((g) => g.rules);
    const names = alerts.map((a) => a.alert);
    for (const required of [
      'RevocationGatewayHighErrorRatio',
      'RevocationGatewayHighLatencyP99',
      'RevocationGatewayHighThrottlingRate',
      'RevocationGatewayUpstreamFailures',
      'RevocationGatewayOutboxBacklog',
      'RevocationGatewaySetBacklog',
      'RevocationGatewayOutboxDeadLetters',
    ]) {
      assert.ok(names.includes(required), `missing alert ${required}`);
    }
    const used = new Set();
    for (const alert of alerts) {
      for (const metric of checkPromql(alert.expr, alert.alert)) used.add(metric);
      assert.ok(alert.labels?.severity, `${alert.alert}: severity`);
      assert.ok(alert.annotations?.summary, `${alert.alert}: summary`);
      if (alert.alert.startsWith('RevocationGateway') && alert.alert !== 'RevocationGatewayClientAuthFailures') {
        assert.match(
          alert.expr,
          new RegExp(`namespace="${NAMESPACE}",job="${managementService(objects).metadata.name}"`),
          `${alert.alert}: scoped to the release`,
        );
        assert.equal(alert.labels.team, 'payments', 'alertLabels applied');
      }
    }
    for (const metric of [
      'revgw_http_requests_total',
      'revgw_http_request_duration_seconds_bucket',
      'revgw_throttled_requests_total',
      'revgw_upstream_requests_total',
      'revgw_outbox_pending',
      'revgw_outbox_dead',
      'revgw_set_pending',
    ]) {
      assert.ok(used.has(metric), `no alert on ${metric}`);
    }
  });

  test('Grafana dashboard ConfigMap is labelled for the sidecar and every panel query is valid', () => {
    const objects = scenarios.get('monitoring');
    const configMap = one(objects, 'ConfigMap', (c) => c.metadata.labels.grafana_dashboard === '1');
    assert.equal(configMap.metadata.namespace, 'monitoring');
    assert.equal(configMap.metadata.annotations?.grafana_folder, 'Open Banking');
    const [key] = Object.keys(configMap.data);
    assert.match(key, /\.json$/);
    const dashboard = JSON.parse(configMap.data[key]);
    assert.equal(dashboard.uid, 'fapi-revocation-gateway');
    const variables = dashboard.templating.list.map((v) => v.name);
    assert.deepEqual(variables, ['datasource', 'namespace', 'job']);
    const panels = dashboard.panels.flatMap((p) => [p, ...(p.panels ?? [])]).filter((p) => p.type !== 'row');
    assert.ok(panels.length >= 12);
    const ids = new Set();
    const used = new Set();
    for (const panel of panels) {
      assert.ok(!ids.has(panel.id), `duplicate panel id ${panel.id}`);
      ids.add(panel.id);
      assert.equal(panel.datasource?.uid, '${datasource}', `${panel.title}: datasource variable`);
      assert.ok(panel.targets?.length, `${panel.title}: no query`);
      for (const target of panel.targets) {
        const expr = target.expr.replaceAll('$__rate_interval', '5m');
        assert.match(expr, /namespace="\$namespace",job="\$job"/, `${panel.title}: filtered by the dashboard variables`);
        for (const metric of checkPromql(expr, panel.title)) used.add(metric);
      }
    }
    for (const metric of Object.keys(API_METRICS)) assert.ok(used.has(metric), `no dashboard panel shows ${metric}`);
  });

  test('monitoring objects are off by default', () => {
    const objects = scenarios.get('default');
    for (const kind of ['ServiceMonitor', 'PrometheusRule']) assert.equal(byKind(objects, kind).length, 0);
    assert.equal(byKind(objects, 'ConfigMap').filter((c) => c.metadata.labels.grafana_dashboard).length, 0);
  });
});

describe('helm test', () => {
  test('the test pod curls /health/ready on the management Service', () => {
    const objects = scenarios.get('default');
    const pod = one(objects, 'Pod');
    assert.equal(annotations(pod)['helm.sh/hook'], 'test');
    assert.equal(pod.spec.restartPolicy, 'Never');
    const mgmt = managementService(objects);
    const url = pod.spec.containers[0].command.at(-1);
    assert.equal(url, `http://${mgmt.metadata.name}.${NAMESPACE}.svc:${mgmt.spec.ports[0].port}/health/ready`);
    assert.ok(pod.spec.containers[0].command.includes('--fail'));
  });
});

describe('values.yaml', () => {
  const document = parseDocument(readFileSync(join(chart, 'values.yaml'), 'utf8'));
  const schema = JSON.parse(readFileSync(join(chart, 'values.schema.json'), 'utf8'));

  test('documents every value with a `# --` comment (on the value or the map holding it)', () => {
    const undocumented = [];
    const walk = (map, path, documented) => {
      for (const pair of map.items) {
        const key = String(pair.key.value);
        const comments = [pair.key.commentBefore, pair.commentBefore, pair === map.items[0] ? map.commentBefore : undefined];
        const here = documented || comments.some((c) => c && /(^|\n)\s*-- /.test(c));
        if (isMap(pair.value) && pair.value.items.length) walk(pair.value, [...path, key], here);
        else if (!here) undocumented.push([...path, key].join('.'));
      }
    };
    walk(document.contents, [], false);
    assert.deepEqual(undocumented, []);
  });

  test('every value is declared in values.schema.json', () => {
    const undeclared = [];
    const walk = (values, node, path) => {
      for (const [key, value] of Object.entries(values)) {
        const child = node.properties?.[key];
        if (!child) {
          if (node.additionalProperties === false || !node.additionalProperties) undeclared.push([...path, key].join('.'));
          continue;
        }
        if (value && typeof value === 'object' && !Array.isArray(value) && child.properties) walk(value, child, [...path, key]);
      }
    };
    walk(document.toJS(), schema, []);
    assert.deepEqual(undeclared, []);
  });
});

describe('NOTES.txt', () => {
  // `helm template` skips NOTES.txt and `helm install --dry-run` needs a cluster: render it through
  // tpl in a scratch copy of the chart.
  let scratch;
  before(() => {
    scratch = mkdtempSync(join(tmpdir(), 'revgw-notes-'));
    cpSync(chart, scratch, { recursive: true });
    cpSync(join(chart, 'templates/NOTES.txt'), join(scratch, 'notes-under-test.txt'));
    writeFileSync(
      join(scratch, 'templates/zz-notes-under-test.yaml'),
      'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: notes\ndata:\n  notes: |-\n{{ tpl (.Files.Get "notes-under-test.txt") . | indent 4 }}\n',
    );
  });
  after(() => rmSync(scratch, { recursive: true, force: true }));

  for (const file of scenarioFiles) {
    const name = basename(file, '-values.yaml');
    test(`${name}: renders and names both Services`, () => {
      const args = [
        'template',
        RELEASE,
        scratch,
        '--namespace',
        NAMESPACE,
        '--kube-version',
        KUBE_VERSION,
        '-f',
        join(chart, 'ci', file),
        '--show-only',
        'templates/zz-notes-under-test.yaml',
      ];
      const result = helm(args);
      assert.equal(result.status, 0, result.stderr);
      const [object] = parseManifests(result.stdout);
      const notes = object.data.notes;
      const objects = scenarios.get(name);
      assert.ok(notes.includes(`svc/${publicService(objects).metadata.name}`), notes);
      assert.ok(notes.includes(`svc/${managementService(objects).metadata.name}`), notes);
      assert.match(notes, /never expose it to TPPs/);
    });
  }
});

describe('values.schema.json and render-time checks', () => {
  const issuer = ['--set', 'config.issuer=https://revoke.bank.example'];
  const database = ['--set', 'database.url=postgres://gateway@db:5432/revocation'];
  const upstream = ['--set', 'upstream.enabled=true', '--set', 'upstream.url=https://as.example/revoke'];
  const upstreamKey = ['--set', `upstream.tokenEncryptionKey=${'A'.repeat(43)}=`];
  const cases = [
    ['a values file without a database', [...issuer], /database\/url|existingSecret\/name/],
    ['a non-PostgreSQL database URL', [...issuer, '--set', 'database.url=mysql://db/x'], /database\/url/],
    ['no issuer', [...database], /config\/issuer/],
    ['an unknown value (typo)', [...issuer, ...database, '--set', 'replicas=3'], /additional properties 'replicas' not allowed|replicas/],
    ['an unknown profile', [...issuer, ...database, '--set', 'config.profiles={rfc7009,bogus}'], /profiles/],
    ['Redis without a URL', [...issuer, ...database, '--set', 'redis.enabled=true'], /redis/],
    ['upstream without an encryption key', [...issuer, ...database, ...upstream], /tokenEncryptionKey|existingSecret/],
    ['upstream without its client id', [...issuer, ...database, ...upstream, ...upstreamKey], /upstream\.clientId/],
    [
      'a shutdown grace no longer than the upstream timeout',
      [...issuer, ...database, ...upstream, ...upstreamKey, '--set', 'upstream.clientId=gw', '--set', 'upstream.timeoutMs=20000'],
      /shutdownGraceMs must exceed upstream\.timeoutMs/,
    ],
    ['an encryption key that is not 32 bytes', [...issuer, ...database, '--set', 'upstream.tokenEncryptionKey=c2hvcnQ='], /tokenEncryptionKey/],
    ['a short admin token', [...issuer, ...database, '--set', 'admin.apiToken=short'], /apiToken/],
    ['a grace period shorter than the shutdown', [...issuer, ...database, '--set', 'terminationGracePeriodSeconds=12'], /terminationGracePeriodSeconds/],
    ['a lock timeout not below the statement timeout', [...issuer, ...database, '--set', 'config.database.lockTimeoutMs=5000'], /lockTimeoutMs must be below/],
    [
      'a migration lock timeout not below its statement timeout',
      [...issuer, ...database, '--set', 'migrations.statementTimeoutMs=5000', '--set', 'migrations.lockTimeoutMs=9000'],
      /migrations\.lockTimeoutMs must be below/,
    ],
    [
      'DATABASE_URL smuggled through extraEnv',
      [...issuer, ...database, '--set', 'extraEnv[0].name=DATABASE_URL', '--set', 'extraEnv[0].value=x'],
      /extraEnv: DATABASE_URL/,
    ],
  ];
  for (const [what, args, message] of cases) {
    test(`rejects ${what}`, () => {
      const result = template([], args);
      assert.notEqual(result.status, 0, `helm template accepted ${what}`);
      assert.match(result.stderr, message);
    });
  }

  test('a PDB with maxUnavailable: 0 keeps the 0 (no eviction without a replacement)', () => {
    const objects = render([join(chart, 'ci/default-values.yaml')], ['--set', 'podDisruptionBudget.maxUnavailable=0']);
    const pdb = objects.find((object) => object.kind === 'PodDisruptionBudget');
    assert.equal(pdb.spec.maxUnavailable, 0);
  });

  test('several replicas render without Redis (the replay store is then shared in PostgreSQL)', () => {
    const objects = render([join(chart, 'ci/default-values.yaml')], ['--set', 'replicaCount=3']);
    assert.equal(gatewayDeployment(objects).spec.replicas, 3);
  });

  test(`renders on the oldest supported Kubernetes (${MIN_KUBE_VERSION})`, () => {
    const result = template([join(chart, 'ci/default-values.yaml')], ['--kube-version', MIN_KUBE_VERSION]);
    assert.equal(result.status, 0, result.stderr);
  });

  test('the ConfigMap or Secret changing changes the pod checksums', () => {
    const base = gatewayDeployment(scenarios.get('default')).spec.template.metadata.annotations;
    const changed = gatewayDeployment(
      render([join(chart, 'ci/default-values.yaml')], ['--set', 'config.logLevel=debug', '--set', 'database.url=postgres://other@db/x']),
    ).spec.template.metadata.annotations;
    assert.notEqual(changed['checksum/config'], base['checksum/config']);
    assert.notEqual(changed['checksum/secret'], base['checksum/secret']);
  });
});

// ---------------------------------------------------------------------------------------------
// the chart and the gateway agree on the configuration (docs/configuration.md)

/** What an existingSecret would hold under a key the chart reads but cannot see. */
const STAND_INS = {
  DATABASE_URL: 'postgres://gateway@postgresql.db.svc.cluster.local:5432/revocation',
  REDIS_URL: 'redis://redis-master.cache.svc.cluster.local:6379/0',
  TOKEN_ENCRYPTION_KEY: Buffer.alloc(32, 1).toString('base64'),
};

/**
 * The environment a container of the rendered objects starts with: its ConfigMap and Secret
 * sources and its own entries, Secret values as rendered (or a stand-in for an existingSecret; an
 * optional key left out). A path under one of its volume mounts names a stand-in file under
 * `files`, since the gateway checks that the files it is given are readable.
 */
function containerEnv(objects, container, files) {
  const named = (kind, name) => byKind(objects, kind).find((o) => o.metadata.name === name);
  const decode = (value) => Buffer.from(value, 'base64').toString('utf8');
  const env = {};
  for (const source of container.envFrom ?? []) {
    if (source.configMapRef) Object.assign(env, named('ConfigMap', source.configMapRef.name)?.data);
    if (source.secretRef) for (const [k, v] of Object.entries(named('Secret', source.secretRef.name)?.data ?? {})) env[k] = decode(v);
  }
  for (const entry of container.env ?? []) {
    const ref = entry.valueFrom?.secretKeyRef ?? entry.valueFrom?.configMapKeyRef;
    if (!ref) {
      env[entry.name] = entry.value ?? '';
      continue;
    }
    const kind = entry.valueFrom.secretKeyRef ? 'Secret' : 'ConfigMap';
    const rendered = named(kind, ref.name);
    if (rendered) {
      assert.ok(ref.key in (rendered.data ?? {}) || ref.optional, `${entry.name}: ${kind} ${ref.name} has no key ${ref.key}: the pod would not start`);
      if (ref.key in (rendered.data ?? {})) env[entry.name] = kind === 'Secret' ? decode(rendered.data[ref.key]) : rendered.data[ref.key];
    } else if (!ref.optional) {
      assert.ok(entry.name in STAND_INS, `${entry.name} comes from ${kind} ${ref.name}, which the chart does not render: no stand-in value for it`);
      env[entry.name] = STAND_INS[entry.name];
    }
  }
  for (const [name, value] of Object.entries(env)) {
    if ((container.volumeMounts ?? []).some((mount) => value.startsWith(`${mount.mountPath}/`))) {
      const file = join(files, value);
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(file, 'stand-in\n');
      env[name] = file;
    }
  }
  return env;
}

/** What the gateway says at start about each container it runs in: [] when it starts. */
function gatewayVerdicts(objects, files) {
  const containers = [
    ['gateway pods', gatewayContainer(objects)],
    ...byKind(objects, 'Job').map((job) => [`Job ${job.metadata.name}`, job.spec.template.spec.containers[0]]),
  ];
  return containers.map(([where, container]) => {
    const env = containerEnv(objects, container, files);
    try {
      return { where, env, config: loadConfig(env), problems: [] };
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      return { where, env, problems: error.problems };
    }
  });
}

describe('the gateway accepts what the chart renders', () => {
  let files;
  before(() => (files = mkdtempSync(join(tmpdir(), 'revgw-files-'))));
  after(() => rmSync(files, { recursive: true, force: true }));

  for (const file of scenarioFiles) {
    const name = basename(file, '-values.yaml');
    test(`${name}: the pods' and the migration Job's environment passes the gateway's own config loader`, () => {
      const verdicts = gatewayVerdicts(scenarios.get(name), files);
      assert.ok(verdicts.length >= 2, 'the gateway pods and the migration Job');
      for (const { where, problems } of verdicts) assert.deepEqual(problems, [], `${name}, ${where}:\n${problems.join('\n')}`);
      const [pods] = verdicts;
      assert.ok(pods.config.databaseUrl, 'an external database, never the embedded one');
      assert.equal(pods.config.migrationsRun, false);
      assert.equal(pods.config.port, gatewayContainer(scenarios.get(name)).ports.find((p) => p.name === 'http').containerPort);
    });
  }
});

describe('the chart refuses at render time exactly what the gateway refuses at start', () => {
  // Each case renders twice: with the chart as it is (does it refuse?), and with a copy whose
  // values.schema.json and render-time checks (revgw.validate) are removed, whose pods' and Job's
  // environment goes to the gateway's loader (does the gateway refuse?). The two must agree.
  const KEY = Buffer.alloc(32, 2).toString('base64');
  const upstream = ['upstream.enabled=true', 'upstream.url=https://as.bank.example/revoke', 'upstream.clientId=gw', `upstream.tokenEncryptionKey=${KEY}`];
  const without = (list, prefix) => list.filter((entry) => !entry.startsWith(prefix));
  // A JWK is JSON, which --set would split at its commas: --set-json carries it as one string.
  const jwk = (value, pair) => ['--set-json', `${value}=${JSON.stringify(JSON.stringify(pair.privateKey.export({ format: 'jwk' })))}`];
  const signingKey = jwk('signing.key', generateKeyPairSync('ec', { namedCurve: 'P-256' }));
  const previousKey = jwk('signing.keyPrevious', generateKeyPairSync('ed25519'));
  const cases = [
    // src/config/variables.ts RULES, and the conditions in templates/_helpers.tpl
    ['equal ports', ['ports.http=9000', 'ports.management=9000'], /ports\.http and ports\.management must differ/, /MANAGEMENT_PORT must differ from PORT/],
    ['different ports', ['ports.http=9000', 'ports.management=9001']],
    [
      'a lock timeout equal to the statement timeout',
      ['config.database.lockTimeoutMs=5000'],
      /config\.database\.lockTimeoutMs must be below/,
      /DATABASE_LOCK_TIMEOUT_MS must be below DATABASE_STATEMENT_TIMEOUT_MS/,
    ],
    ['a lock timeout just below the statement timeout', ['config.database.lockTimeoutMs=4999']],
    [
      'a migration lock timeout equal to its statement timeout',
      ['migrations.lockTimeoutMs=600000'],
      /migrations\.lockTimeoutMs must be below/,
      /DATABASE_LOCK_TIMEOUT_MS must be below DATABASE_STATEMENT_TIMEOUT_MS/,
    ],
    ['a migration lock timeout just below its statement timeout', ['migrations.lockTimeoutMs=599999']],
    [
      'a shutdown grace equal to the upstream timeout',
      [...upstream, 'upstream.timeoutMs=10000'],
      /shutdownGraceMs must exceed upstream\.timeoutMs/,
      /SHUTDOWN_GRACE_MS must exceed UPSTREAM_TIMEOUT_MS/,
    ],
    ['a shutdown grace just above the upstream timeout', [...upstream, 'upstream.timeoutMs=9999']],
    ['upstream without its client id', without(upstream, 'upstream.clientId'), /upstream\.clientId/, /UPSTREAM_CLIENT_ID is required/],
    [
      'an introspection overlay without the upstream secret',
      ['upstream.introspectionUrl=https://as.bank.example/introspect', 'upstream.clientId=gw'],
      /upstream\.introspectionUrl requires upstream\.clientId and upstream\.clientSecret/,
      /UPSTREAM_CLIENT_ID and UPSTREAM_CLIENT_SECRET are required when UPSTREAM_INTROSPECTION_URL is set/,
    ],
    [
      'an introspection overlay with its credentials',
      ['upstream.introspectionUrl=https://as.bank.example/introspect', 'upstream.clientId=gw', 'upstream.clientSecret=s3cret-value'],
    ],
    [
      'an introspection overlay with a timeout out of range',
      ['upstream.introspectionUrl=https://as.bank.example/introspect', 'upstream.clientId=gw', 'upstream.clientSecret=s3cret-value', 'upstream.timeoutMs=10'],
      /upstream\/timeoutMs/,
      /UPSTREAM_TIMEOUT_MS must be an integer from 50 to 60000/,
    ],
    ['upstream without an encryption key', without(upstream, 'upstream.tokenEncryptionKey'), /tokenEncryptionKey/, /TOKEN_ENCRYPTION_KEY is required/],
    ['a previous signing key without a current one', [previousKey], /signing\.keyPrevious .* needs signing\.key/, /SIGNING_KEY_PREVIOUS needs SIGNING_KEY/],
    ['a signing key and the one before it', [signingKey, previousKey]],
    // values.schema.json patterns against the gateway's checks of the same variables
    ['a bind address that is a host name', ['config.host=db.internal'], /config\/host/, /HOST must be/],
    ['an IPv6 bind address', ['config.host=::']],
    ['a CIDR range with a bad prefix', ['config.trustedProxies={10.0.0.0/33}'], /trustedProxies/, /TRUSTED_PROXIES must be/],
    ['IPv4 and IPv6 proxies and ranges', ['config.trustedProxies={10.0.0.0/8,192.0.2.1,fd00::/8,2001:db8::1}']],
    ['an issuer with a port out of range', ['config.issuer=https://revoke.bank.example:99999'], /config\/issuer/, /ISSUER must be/],
    ['an issuer with a numeric top-level label', ['config.issuer=https://revoke.123'], /config\/issuer/, /ISSUER must be/],
    ['a database URL with a bad port', ['database.url=postgres://gateway:pw@db:notaport/x'], /database\/url/, /DATABASE_URL must be/],
    ['a database URL on an IPv6 address', ['database.url=postgres://gateway:pw@[fd00::5]:5432/x?sslmode=require']],
    ['a Redis URL with a bad port', ['redis.enabled=true', 'redis.url=redis://:pw@redis:port/0'], /redis\/url/, /REDIS_URL must be/],
    [
      'an upstream URL with a fragment',
      [...without(upstream, 'upstream.url'), 'upstream.url=https://as.bank.example/revoke#x'],
      /upstream\/url/,
      /UPSTREAM_REVOCATION_URL must be/,
    ],
    [
      'an upstream client secret that is not printable ASCII',
      [...upstream, 'upstream.clientSecret=s\u00e9cret'],
      /clientSecret/,
      /UPSTREAM_CLIENT_SECRET must be/,
    ],
  ];

  let unchecked;
  let files;
  before(() => {
    unchecked = mkdtempSync(join(tmpdir(), 'revgw-unchecked-'));
    files = mkdtempSync(join(tmpdir(), 'revgw-files-'));
    cpSync(chart, unchecked, { recursive: true });
    rmSync(join(unchecked, 'values.schema.json'));
    for (const template of ['templates/deployment.yaml', 'templates/migration-job.yaml']) {
      const path = join(unchecked, template);
      const text = readFileSync(path, 'utf8');
      assert.ok(text.includes('{{- include "revgw.validate" . }}'), `${template} no longer includes revgw.validate`);
      writeFileSync(path, text.replace('{{- include "revgw.validate" . }}', ''));
    }
  });
  after(() => {
    rmSync(unchecked, { recursive: true, force: true });
    rmSync(files, { recursive: true, force: true });
  });

  for (const [what, values, chartSays, gatewaySays] of cases) {
    test(`${what}: ${chartSays ? 'both refuse it' : 'both accept it'}`, () => {
      const set = values.flatMap((value) => (Array.isArray(value) ? value : ['--set', value]));
      const base = join(chart, 'ci/default-values.yaml');
      const checked = template([base], set);
      const result = helm(['template', RELEASE, unchecked, '--namespace', NAMESPACE, '--kube-version', KUBE_VERSION, '-f', base, ...set]);
      assert.equal(result.status, 0, `the unchecked chart does not render:\n${result.stderr}`);
      const problems = gatewayVerdicts(parseManifests(result.stdout), files).flatMap(({ where, problems }) => problems.map((line) => `${where}: ${line}`));
      const chartRefuses = checked.status !== 0;
      assert.equal(
        chartRefuses,
        problems.length > 0,
        `chart ${chartRefuses ? 'refuses' : 'accepts'}: ${checked.stderr.trim() || 'renders'}\ngateway: ${problems.join('\n') || 'starts'}`,
      );
      if (chartSays) {
        assert.match(checked.stderr, chartSays);
        assert.ok(
          problems.some((line) => gatewaySays.test(line)),
          problems.join('\n'),
        );
      }
    });
  }
});
