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

# The PrometheusRule's alerts, with Prometheus' own tools (Debian's prometheus package): the rules
# must load, and test/helm/alerts.test.yaml must see each alert fire and stay quiet.
if ! command -v promtool >/dev/null; then
  echo "promtool is needed for the alert tests: apt-get install prometheus" >&2
  exit 1
fi
rules_dir="${helm_home}/rules"
mkdir -p "${rules_dir}"
"${HELM_BIN}" template r "${chart}" -f "${chart}/ci/monitoring-values.yaml" --show-only templates/prometheusrule.yaml \
  | node -e "const y = require('yaml'); let s = ''; process.stdin.on('data', (d) => (s += d)).on('end', () => process.stdout.write(y.stringify(y.parse(s).spec)))" \
    >"${rules_dir}/rules.yaml"
cp test/helm/alerts.test.yaml "${rules_dir}/"
node test/helm/alert-coverage.mjs "${rules_dir}/rules.yaml" "${rules_dir}/alerts.test.yaml" RevocationGatewayClientAuthFailures
promtool check rules "${rules_dir}/rules.yaml"
promtool test rules "${rules_dir}/alerts.test.yaml"
