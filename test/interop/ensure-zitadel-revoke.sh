#!/usr/bin/env bash
# Prints the path of the zitadel/oidc interop client (./zitadel-revoke), building it with the Go
# module proxy the first time. Cached outside the work tree, keyed by its source and go.sum.
set -euo pipefail
here="$(cd "$(dirname "$0")/zitadel-revoke" && pwd)"
key="$(cat "${here}/main.go" "${here}/go.mod" "${here}/go.sum" | sha256sum | cut -c1-16)"
cache="${XDG_CACHE_HOME:-$HOME/.cache}/fapi-revocation-gateway/bin/zitadel-revoke-${key}"
if [[ -x "${cache}/zitadel-revoke" ]]; then
  echo "${cache}/zitadel-revoke"
  exit 0
fi
source "$(dirname "$0")/../support/find-go.sh"
find_go "ensure-zitadel-revoke (to build the zitadel/oidc client)"
echo "ensure-zitadel-revoke: building into ${cache} (first run only)" >&2
mkdir -p "${cache}"
(cd "${here}" && GOFLAGS="-mod=readonly -buildvcs=false" CGO_ENABLED=0 "${go_bin}" build -trimpath -o "${cache}/zitadel-revoke.tmp" . >&2)
mv "${cache}/zitadel-revoke.tmp" "${cache}/zitadel-revoke"
echo "${cache}/zitadel-revoke"
