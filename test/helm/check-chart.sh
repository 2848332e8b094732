#!/usr/bin/env bash
# `npm run test:helm`: checks that the chart README is what helm-docs writes and that the chart
# version was bumped with the last chart change, then builds/caches the pinned helm and lints,
# renders and validates the chart for every helm/fapi-revocation-gateway/ci/*-values.yaml scenario,
# feeding what it renders to the gateway's config loader (test/helm/validate.mjs, which needs dist/:
# built here when the sources changed). Offline once helm and helm-docs are cached.
set -euo pipefail
cd "$(dirname "$0")/../.."
chart=helm/fapi-revocation-gateway

# The README's values table comes from the `# --` comments in values.yaml (README.md.gotmpl).
HELM_DOCS_BIN="$(bash test/helm/ensure-helm-docs.sh)"
if ! diff -u --label "${chart}/README.md (committed)" --label "${chart}/README.md (helm-docs)" \
  "${chart}/README.md" <("${HELM_DOCS_BIN}" --chart-search-root helm --dry-run --log-level warn); then
  echo "${chart}/README.md is stale: run \"\$(bash test/helm/ensure-helm-docs.sh)\" -c helm" >&2
  exit 1
fi
echo "README: ${chart}/README.md matches helm-docs $("${HELM_DOCS_BIN}" --version | awk '{print $NF}')"

bash test/helm/check-version-bump.sh "${chart}"

HELM_BIN="$(bash test/helm/ensure-helm.sh)"
export HELM_BIN
# helm needs no repositories or plugins here; keep it away from the user's helm configuration.
helm_home="$(mktemp -d)"
trap 'rm -rf "${helm_home}"' EXIT
export HELM_CONFIG_HOME="${helm_home}/config" HELM_CACHE_HOME="${helm_home}/cache" HELM_DATA_HOME="${helm_home}/data"

# validate.mjs feeds what the chart renders to the gateway's own config loader, from dist/.
node src/build-dist.cjs

echo "helm $("${HELM_BIN}" version --short) at ${HELM_BIN}"
node --test-reporter=spec test/helm/validate.mjs
