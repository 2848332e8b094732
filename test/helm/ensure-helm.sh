#!/usr/bin/env bash
# Prints the path of the pinned helm binary, building it from the Go module proxy the first time.
# Only the Go module proxy and the npm registry are reachable here, so helm is compiled with
# `go install` (a few minutes once) and cached outside the work tree, keyed by its version.
set -euo pipefail

HELM_VERSION="${HELM_VERSION:-v3.19.0}"
# The Kubernetes minor version of helm's client-go (v0.34 for helm v3.19): helm's Makefile stamps it
# as the default for .Capabilities.KubeVersion and the deprecation lint; `go install` alone says 1.20.
HELM_KUBE_MINOR="${HELM_KUBE_MINOR:-34}"
cache="${XDG_CACHE_HOME:-$HOME/.cache}/fapi-revocation-gateway/bin/helm-${HELM_VERSION}"
helm="${cache}/helm"

# The same link-time stamps as helm's Makefile: without them `helm version` says "v3.19+unreleased"
# and the default Kubernetes version is 1.20.
ldflags="-s -w -X helm.sh/helm/v3/internal/version.version=${HELM_VERSION}"
ldflags+=" -X helm.sh/helm/v3/internal/version.gitTreeState=clean"
for pkg in pkg/chartutil pkg/lint/rules; do
  ldflags+=" -X helm.sh/helm/v3/${pkg}.k8sVersionMajor=1 -X helm.sh/helm/v3/${pkg}.k8sVersionMinor=${HELM_KUBE_MINOR}"
done

# Cached: the binary reports the pinned version and was linked with these very flags.
if [[ -x "${helm}" && -f "${cache}/ldflags" && "$(cat "${cache}/ldflags")" == "${ldflags}" \
  && "$("${helm}" version --template '{{.Version}}' 2>/dev/null)" == "${HELM_VERSION}" ]]; then
  echo "${helm}"
  exit 0
fi


source "$(dirname "$0")/../support/find-go.sh"
find_go "ensure-helm (to build helm ${HELM_VERSION})"

echo "ensure-helm: building helm ${HELM_VERSION} into ${cache} (first run only, takes a few minutes)" >&2
mkdir -p "${cache}"
GOBIN="${cache}" GOFLAGS=-buildvcs=false CGO_ENABLED=0 "${go_bin}" install -trimpath -ldflags "${ldflags}" \
  "helm.sh/helm/v3/cmd/helm@${HELM_VERSION}" >&2
if [[ "$("${helm}" version --template '{{.Version}}')" != "${HELM_VERSION}" ]]; then
  echo "ensure-helm: ${helm} does not report ${HELM_VERSION}" >&2
  exit 1
fi
printf '%s' "${ldflags}" >"${cache}/ldflags"
echo "${helm}"
