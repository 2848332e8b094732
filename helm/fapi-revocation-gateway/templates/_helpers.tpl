{{/*
Chart name, truncated to 63 characters (DNS label).
*/}}
{{- define "revgw.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Fully qualified app name: the release name, prefixed unless it already contains the chart name.
*/}}
{{- define "revgw.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/*
Name with a suffix, still within 63 characters: (dict "ctx" $ "suffix" "management").
*/}}
{{- define "revgw.suffixed" -}}
{{- $suffix := printf "-%s" .suffix }}
{{- printf "%s%s" (include "revgw.fullname" .ctx | trunc (int (sub 63 (len $suffix))) | trimSuffix "-") $suffix }}
{{- end }}

{{- define "revgw.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Selector labels of the gateway pods. The chart renders three kinds of pods (gateway, migration
Job, helm test), so the component is part of the selector: Services, the PDB and the
NetworkPolicy must never match the Job's or the test's pods.
*/}}
{{- define "revgw.selectorLabels" -}}
app.kubernetes.io/name: {{ include "revgw.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: gateway
{{- end }}

{{/*
Standard labels; pass (dict "ctx" $ "component" "gateway").
*/}}
{{- define "revgw.labels" -}}
{{- $ctx := .ctx -}}
helm.sh/chart: {{ include "revgw.chart" $ctx }}
app.kubernetes.io/name: {{ include "revgw.name" $ctx }}
app.kubernetes.io/instance: {{ $ctx.Release.Name }}
app.kubernetes.io/version: {{ include "revgw.imageTag" $ctx | trunc 63 | trimSuffix "-" | quote }}
app.kubernetes.io/component: {{ .component }}
app.kubernetes.io/part-of: {{ $ctx.Values.partOf }}
app.kubernetes.io/managed-by: {{ $ctx.Release.Service }}
{{- with $ctx.Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{- define "revgw.imageTag" -}}
{{- default .Chart.AppVersion .Values.image.tag }}
{{- end }}

{{- define "revgw.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (include "revgw.imageTag" .) }}
{{- end }}
{{- end }}

{{- define "revgw.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "revgw.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "revgw.managementServiceName" -}}
{{- include "revgw.suffixed" (dict "ctx" . "suffix" "management") }}
{{- end }}

{{/*
The Secret the gateway pods read: the user's existingSecret or the chart's own.
*/}}
{{- define "revgw.secretName" -}}
{{- default (include "revgw.fullname" .) .Values.existingSecret.name }}
{{- end }}

{{/*
The Secret the migration Job reads. A pre-install hook runs before the chart's regular Secret
exists, so the Job has its own hook Secret (created just before it, deleted after it succeeds).
*/}}
{{- define "revgw.migrationSecretName" -}}
{{- if .Values.existingSecret.name }}
{{- .Values.existingSecret.name }}
{{- else }}
{{- include "revgw.suffixed" (dict "ctx" . "suffix" "migrations") }}
{{- end }}
{{- end }}

{{/*
Render-time checks that the schema cannot express. Included by the Deployment and the migration
Job. Those across the gateway's variables (ports, lock timeouts, shutdown grace against the
upstream timeout, what an upstream requires, a previous signing key only beside a current one) are
the gateway's own start-time rules (src/config/variables.ts, docs/configuration.md), checked here
so that `helm install` fails before a pod does; test/helm/validate.mjs proves that the chart
refuses exactly what the gateway would.
*/}}
{{- define "revgw.validate" -}}
{{- if and (not .Values.database.url) (not .Values.existingSecret.name) }}
{{- fail "database.url (DATABASE_URL of an external PostgreSQL) or existingSecret.name is required: the chart never runs the embedded database" }}
{{- end }}
{{- if not .Values.config.issuer }}
{{- fail "config.issuer (ISSUER, e.g. https://revoke.bank.example) is required" }}
{{- end }}
{{- if and .Values.autoscaling.enabled (gt (int .Values.autoscaling.minReplicas) (int .Values.autoscaling.maxReplicas)) }}
{{- fail "autoscaling.minReplicas must not exceed autoscaling.maxReplicas" }}
{{- end }}
{{- if and .Values.redis.enabled (not .Values.redis.url) (not .Values.existingSecret.name) }}
{{- fail "redis.enabled requires redis.url (REDIS_URL) or existingSecret.name" }}
{{- end }}
{{- if .Values.upstream.enabled }}
{{- if not .Values.upstream.url }}
{{- fail "upstream.enabled requires upstream.url (UPSTREAM_REVOCATION_URL)" }}
{{- end }}
{{- if and (not .Values.upstream.tokenEncryptionKey) (not .Values.existingSecret.name) }}
{{- fail "upstream.enabled requires upstream.tokenEncryptionKey (TOKEN_ENCRYPTION_KEY, openssl rand -base64 32) or existingSecret.name" }}
{{- end }}
{{- if not .Values.upstream.clientId }}
{{- fail "upstream.enabled requires upstream.clientId (UPSTREAM_CLIENT_ID, the gateway's client at the upstream)" }}
{{- end }}
{{- if le (int .Values.config.shutdownGraceMs) (int .Values.upstream.timeoutMs) }}
{{- fail "config.shutdownGraceMs must exceed upstream.timeoutMs: a revocation in flight may wait that long on the upstream" }}
{{- end }}
{{- end }}
{{- if .Values.upstream.introspectionUrl }}
{{- if or (not .Values.upstream.clientId) (and (not .Values.upstream.clientSecret) (not .Values.existingSecret.name)) }}
{{- fail "upstream.introspectionUrl requires upstream.clientId and upstream.clientSecret (UPSTREAM_CLIENT_ID and UPSTREAM_CLIENT_SECRET, HTTP Basic at the upstream) or existingSecret.name" }}
{{- end }}
{{- end }}
{{- if and .Values.signing.keyPrevious (not .Values.signing.key) }}
{{- fail "signing.keyPrevious (SIGNING_KEY_PREVIOUS) needs signing.key (SIGNING_KEY): the previous key is published beside the one configured" }}
{{- end }}
{{- if ge (int .Values.config.database.lockTimeoutMs) (int .Values.config.database.statementTimeoutMs) }}
{{- fail "config.database.lockTimeoutMs must be below config.database.statementTimeoutMs (the gateway refuses to start otherwise)" }}
{{- end }}
{{- if and .Values.migrations.enabled (ge (int .Values.migrations.lockTimeoutMs) (int .Values.migrations.statementTimeoutMs)) }}
{{- fail "migrations.lockTimeoutMs must be below migrations.statementTimeoutMs" }}
{{- end }}
{{- if and .Values.tls.enabled (not .Values.tls.secretName) }}
{{- fail "tls.enabled requires tls.secretName" }}
{{- end }}
{{- $needed := add (int .Values.lifecycle.preStopSleepSeconds) (div (add (int .Values.config.shutdownGraceMs) 999) 1000) }}
{{- if le (int .Values.terminationGracePeriodSeconds) (int $needed) }}
{{- fail (printf "terminationGracePeriodSeconds (%d) must exceed lifecycle.preStopSleepSeconds + config.shutdownGraceMs/1000 (%d s)" (int .Values.terminationGracePeriodSeconds) (int $needed)) }}
{{- end }}
{{- if eq (int .Values.ports.http) (int .Values.ports.management) }}
{{- fail "ports.http and ports.management must differ" }}
{{- end }}
{{- $reserved := list "DATABASE_URL" "REDIS_URL" "ADMIN_API_TOKEN" "AUTHZ_CHECK_TOKEN" "UPSTREAM_CLIENT_SECRET" "TOKEN_ENCRYPTION_KEY" "TOKEN_ENCRYPTION_KEY_PREVIOUS" "SIGNING_KEY" "SIGNING_KEY_PREVIOUS" "MIGRATIONS_RUN" "DATA_DIR" "PORT" "MANAGEMENT_PORT" }}
{{- range .Values.extraEnv }}
{{- if has .name $reserved }}
{{- fail (printf "extraEnv: %s is managed by the chart; use the dedicated value (or existingSecret)" .name) }}
{{- end }}
{{- end }}
{{- end }}

{{/*
Secret-backed environment of the gateway container.
*/}}
{{- define "revgw.secretEnv" -}}
{{- $secret := include "revgw.secretName" . }}
{{- $keys := .Values.existingSecret.keys }}
{{- $external := ne .Values.existingSecret.name "" -}}
- name: DATABASE_URL
  valueFrom:
    secretKeyRef:
      name: {{ $secret }}
      key: {{ ternary $keys.databaseUrl "DATABASE_URL" $external }}
{{- if .Values.redis.enabled }}
- name: REDIS_URL
  valueFrom:
    secretKeyRef:
      name: {{ $secret }}
      key: {{ ternary $keys.redisUrl "REDIS_URL" $external }}
{{- end }}
{{- if or $external .Values.admin.apiToken }}
- name: ADMIN_API_TOKEN
  valueFrom:
    secretKeyRef:
      name: {{ $secret }}
      key: {{ ternary $keys.adminApiToken "ADMIN_API_TOKEN" $external }}
      optional: {{ $external }}
{{- end }}
{{- if or $external .Values.admin.authzCheckToken }}
- name: AUTHZ_CHECK_TOKEN
  valueFrom:
    secretKeyRef:
      name: {{ $secret }}
      key: {{ ternary $keys.authzCheckToken "AUTHZ_CHECK_TOKEN" $external }}
      optional: {{ $external }}
{{- end }}
{{- if or $external .Values.signing.key }}
- name: SIGNING_KEY
  valueFrom:
    secretKeyRef:
      name: {{ $secret }}
      key: {{ ternary $keys.signingKey "SIGNING_KEY" $external }}
      optional: {{ $external }}
{{- end }}
{{- if or $external .Values.signing.keyPrevious }}
- name: SIGNING_KEY_PREVIOUS
  valueFrom:
    secretKeyRef:
      name: {{ $secret }}
      key: {{ ternary $keys.signingKeyPrevious "SIGNING_KEY_PREVIOUS" $external }}
      optional: {{ $external }}
{{- end }}
{{- if and (or .Values.upstream.enabled .Values.upstream.introspectionUrl) (or $external .Values.upstream.clientSecret) }}
- name: UPSTREAM_CLIENT_SECRET
  valueFrom:
    secretKeyRef:
      name: {{ $secret }}
      key: {{ ternary $keys.upstreamClientSecret "UPSTREAM_CLIENT_SECRET" $external }}
      optional: {{ $external }}
{{- end }}
{{- /* The outbox needs the key; event streams use it whenever it is there (docs/api.md §12.2). */}}
{{- if or .Values.upstream.enabled .Values.upstream.tokenEncryptionKey $external }}
- name: TOKEN_ENCRYPTION_KEY
  valueFrom:
    secretKeyRef:
      name: {{ $secret }}
      key: {{ ternary $keys.tokenEncryptionKey "TOKEN_ENCRYPTION_KEY" $external }}
      {{- if and $external (not .Values.upstream.enabled) }}
      optional: true
      {{- end }}
{{- if or $external .Values.upstream.tokenEncryptionKeyPrevious }}
- name: TOKEN_ENCRYPTION_KEY_PREVIOUS
  valueFrom:
    secretKeyRef:
      name: {{ $secret }}
      key: {{ ternary $keys.tokenEncryptionKeyPrevious "TOKEN_ENCRYPTION_KEY_PREVIOUS" $external }}
      optional: {{ $external }}
{{- end }}
{{- end }}
{{- end }}

{{/*
Writable /tmp for a read-only root filesystem.
*/}}
{{- define "revgw.tmpVolume" -}}
- name: tmp
  emptyDir:
    sizeLimit: {{ .Values.tmpSizeLimit }}
{{- end }}
