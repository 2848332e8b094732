#!/usr/bin/env bash
# Prints the path of a pinned CoreDNS (the cluster's DNS), built from the Go module proxy the first
# time and cached outside the work tree. Only the plugins the test cluster's Corefile uses are
# compiled in (CoreDNS' documented way of a custom build: set dnsserver.Directives, import the
# plugins, call coremain.Run), so the build skips the cloud providers' SDKs of the full binary.
set -euo pipefail

COREDNS_VERSION="${COREDNS_VERSION:-v1.13.1}"
cache="${XDG_CACHE_HOME:-$HOME/.cache}/fapi-revocation-gateway/coredns-${COREDNS_VERSION}"
coredns="${cache}/coredns"
main_go="$(cat <<'GO'
package main

import (
	"github.com/coredns/coredns/core/dnsserver"
	"github.com/coredns/coredns/coremain"

	_ "github.com/coredns/coredns/plugin/bind"
	_ "github.com/coredns/coredns/plugin/cache"
	_ "github.com/coredns/coredns/plugin/errors"
	_ "github.com/coredns/coredns/plugin/forward"
	_ "github.com/coredns/coredns/plugin/health"
	_ "github.com/coredns/coredns/plugin/kubernetes"
	_ "github.com/coredns/coredns/plugin/loadbalance"
	_ "github.com/coredns/coredns/plugin/ready"
)

// The order in which a query passes the plugins (CoreDNS' plugin.cfg order, restricted to these).
var directives = []string{"bind", "ready", "health", "errors", "loadbalance", "cache", "kubernetes", "forward"}

func init() { dnsserver.Directives = directives }

func main() { coremain.Run() }
GO
)"
# Cached: the binary reports the pinned version and was built from this very main.go.
if [[ -x "${coredns}" && "$(cat "${cache}/src/main.go" 2>/dev/null)" == "${main_go}" ]] \
  && "${coredns}" -version 2>/dev/null | grep -q "CoreDNS-${COREDNS_VERSION#v}"; then
  echo "${coredns}"
  exit 0
fi

source "$(dirname "$0")/../support/find-go.sh"
find_go "ensure-coredns (to build CoreDNS ${COREDNS_VERSION})"

echo "ensure-coredns: building CoreDNS ${COREDNS_VERSION} into ${cache} (first run only)" >&2
src="${cache}/src"
rm -rf "${src}" && mkdir -p "${src}"
printf '%s\n' "${main_go}" >"${src}/main.go"
printf 'module revgw.local/coredns-build\n\ngo 1.24\n\nrequire github.com/coredns/coredns %s\n' "${COREDNS_VERSION}" >"${src}/go.mod"
go_build_throwaway "${src}" -ldflags "-s -w" -o "${coredns}" .
"${coredns}" -version | grep -q "CoreDNS-${COREDNS_VERSION#v}" || { echo "ensure-coredns: ${coredns} does not report ${COREDNS_VERSION}" >&2; exit 1; }
echo "${coredns}"
