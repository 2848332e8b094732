#!/usr/bin/env bash
# `npm run test:helm`: builds/caches the pinned helm, then lints, renders and validates the chart
# for every helm/fapi-revocation-gateway/ci/*-values.yaml scenario (test/helm/validate.mjs). Offline.
set -euo pipefail
cd "$(dirname "$0")/../.."

HELM_BIN="$(bash test/helm/ensure-helm.sh)"
export HELM_BIN
# helm needs no repositories or plugins here; keep it away from the user's helm configuration.
helm_home="$(mktemp -d)"
trap 'rm -rf "${helm_home}"' EXIT
export HELM_CONFIG_HOME="${helm_home}/config" HELM_CACHE_HOME="${helm_home}/cache" HELM_DATA_HOME="${helm_home}/data"

echo "helm $("${HELM_BIN}" version --short) at ${HELM_BIN}"
node --test-reporter=spec test/helm/validate.mjs
