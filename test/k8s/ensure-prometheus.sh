#!/usr/bin/env bash
# Prints the path of a pinned Prometheus built with Kubernetes service discovery, from the Go module
# proxy the first time and cached outside the work tree. Debian's prometheus package is built
# without Kubernetes discovery (its promtool is what test:helm uses); Prometheus' own build tags
# leave every other discovery out (remove_all_sd, enable_kubernetes_sd), and without the
# builtinassets tag the web UI's assets (an npm build) are not needed.
set -euo pipefail

# Prometheus 3.x is published as module versions v0.3xx.y of github.com/prometheus/prometheus.
PROMETHEUS_MODULE_VERSION="${PROMETHEUS_MODULE_VERSION:-v0.316.0}"
cache="${XDG_CACHE_HOME:-$HOME/.cache}/fapi-revocation-gateway/prometheus-${PROMETHEUS_MODULE_VERSION}"
prometheus="${cache}/prometheus"
tags="remove_all_sd,enable_kubernetes_sd"
if [[ -x "${prometheus}" && "$(cat "${cache}/tags" 2>/dev/null)" == "${tags}" ]]; then
  echo "${prometheus}"
  exit 0
fi

source "$(dirname "$0")/../support/find-go.sh"
find_go "ensure-prometheus (to build Prometheus ${PROMETHEUS_MODULE_VERSION})"

echo "ensure-prometheus: building Prometheus ${PROMETHEUS_MODULE_VERSION} (Kubernetes discovery only) into ${cache} (first run only)" >&2
src="${cache}/src"
rm -rf "${src}" && mkdir -p "${src}"
printf 'module revgw.local/prometheus-build\n\ngo 1.26\n\nrequire github.com/prometheus/prometheus %s\n' "${PROMETHEUS_MODULE_VERSION}" >"${src}/go.mod"
printf '//go:build tools\n\npackage tools\n\nimport _ "github.com/prometheus/prometheus/cmd/prometheus"\n' >"${src}/tools.go"
go_build_throwaway "${src}" -tags "${tags},tools" \
  -ldflags "-s -w -X github.com/prometheus/common/version.Version=${PROMETHEUS_MODULE_VERSION}" \
  -o "${prometheus}" github.com/prometheus/prometheus/cmd/prometheus
"${prometheus}" --version >/dev/null
printf '%s' "${tags}" >"${cache}/tags"
echo "${prometheus}"
