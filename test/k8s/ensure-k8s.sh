#!/usr/bin/env bash
# Prints the folder holding the pinned Kubernetes binaries (kube-apiserver, kube-controller-manager,
# kube-scheduler, kubelet, kube-proxy, kubectl), building them from the Go module proxy the first
# time and caching them outside the work tree, keyed by version (as ensure-helm.sh does for helm).
#
# k8s.io/kubernetes' go.mod points its k8s.io/* modules at ./staging/…, which its module zip does
# not hold; the published k8s.io/* v0.<minor>.<patch> modules are that same code, so a throwaway
# main module requires k8s.io/kubernetes and replaces each staging module with its published twin.
set -euo pipefail

K8S_VERSION="${K8S_VERSION:-v1.34.4}"
cache="${XDG_CACHE_HOME:-$HOME/.cache}/fapi-revocation-gateway/k8s-${K8S_VERSION}"
bin="${cache}/bin"
programs=(kube-apiserver kube-controller-manager kube-scheduler kubelet kube-proxy kubectl)

built() {
  for p in "${programs[@]}"; do [[ -x "${bin}/${p}" ]] || return 1; done
  [[ "$("${bin}/kubectl" version --client -o json 2>/dev/null | grep -o '"gitVersion": *"[^"]*"' | grep -o 'v[0-9.]*')" == "${K8S_VERSION}" ]]
}
if built; then
  echo "${bin}"
  exit 0
fi

source "$(dirname "$0")/../support/find-go.sh"
find_go "ensure-k8s (to build Kubernetes ${K8S_VERSION})"

echo "ensure-k8s: building Kubernetes ${K8S_VERSION} into ${bin} (first run only, takes several minutes)" >&2
src="${cache}/src"
rm -rf "${src}" && mkdir -p "${src}" "${bin}"
staging_version="v0.${K8S_VERSION#v1.}"
{
  echo "module revgw.local/k8s-build"
  echo "go 1.24"
  echo "require k8s.io/kubernetes ${K8S_VERSION}"
  # The staging modules k8s.io/kubernetes' own go.mod replaces with ./staging/<name>.
  gomod="$("${go_bin}" mod download -json "k8s.io/kubernetes@${K8S_VERSION}" | sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",$/\1/p')"
  awk '$2 == "=>" && $3 ~ /^\.\/staging\// { print $1 }' "${gomod}" | sort -u \
    | while read -r m; do echo "replace ${m} => ${m} ${staging_version}"; done
} >"${src}/go.mod"
printf 'package tools\n\nimport (\n' >"${src}/tools.go"
printf '\t_ "k8s.io/kubernetes/cmd/%s"\n' "${programs[@]}" >>"${src}/tools.go"
printf ')\n' >>"${src}/tools.go"
sed -i '1i //go:build tools' "${src}/tools.go"

# The version stamps of Kubernetes' own build (hack/lib/version.sh): without them every binary
# reports v0.0.0 and the API server's /version does too.
pkg=k8s.io/component-base/version
ldflags="-s -w -X ${pkg}.gitVersion=${K8S_VERSION} -X ${pkg}.gitMajor=1 -X ${pkg}.gitMinor=$(cut -d. -f2 <<<"${K8S_VERSION}")"
ldflags+=" -X ${pkg}.gitTreeState=clean -X ${pkg}.buildDate=1970-01-01T00:00:00Z"
targets=()
for p in "${programs[@]}"; do targets+=("k8s.io/kubernetes/cmd/${p}"); done
# Statically linked, as Kubernetes' release builds are (CGO_ENABLED=0 for the server binaries).
go_build_throwaway "${src}" -tags tools -ldflags "${ldflags}" -o "${bin}/" "${targets[@]}"
if ! built; then
  echo "ensure-k8s: ${bin}/kubectl does not report ${K8S_VERSION}" >&2
  exit 1
fi
echo "${bin}"
