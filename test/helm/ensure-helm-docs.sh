#!/usr/bin/env bash
# Prints the path of the pinned helm-docs binary (github.com/norwoodj/helm-docs), which writes the
# chart README's values table from the `# --` comments in values.yaml. Built like helm
# (ensure-helm.sh): `go install` through the Go module proxy once, cached outside the work tree.
set -euo pipefail

HELM_DOCS_VERSION="${HELM_DOCS_VERSION:-v1.14.2}"
cache="${XDG_CACHE_HOME:-$HOME/.cache}/fapi-revocation-gateway/bin/helm-docs-${HELM_DOCS_VERSION}"
helm_docs="${cache}/helm-docs"

# Stamped like the release builds (goreleaser sets main.version without the "v"): the README's footer
# names the version, so an unstamped build would write a different README.
stamp="${HELM_DOCS_VERSION#v}"
version_of() { "$1" --version 2>/dev/null | awk '{print $NF}'; }

if [[ -x "${helm_docs}" && "$(version_of "${helm_docs}")" == "${stamp}" ]]; then
  echo "${helm_docs}"
  exit 0
fi

source "$(dirname "$0")/../support/find-go.sh"
find_go "ensure-helm-docs (to build helm-docs ${HELM_DOCS_VERSION})"

echo "ensure-helm-docs: building helm-docs ${HELM_DOCS_VERSION} into ${cache} (first run only)" >&2
mkdir -p "${cache}"
GOBIN="${cache}" GOFLAGS=-buildvcs=false CGO_ENABLED=0 "${go_bin}" install -trimpath \
  -ldflags "-s -w -X main.version=${stamp}" \
  "github.com/norwoodj/helm-docs/cmd/helm-docs@${HELM_DOCS_VERSION}" >&2
if [[ "$(version_of "${helm_docs}")" != "${stamp}" ]]; then
  echo "ensure-helm-docs: ${helm_docs} does not report ${HELM_DOCS_VERSION}" >&2
  exit 1
fi
echo "${helm_docs}"
