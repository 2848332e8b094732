#!/usr/bin/env bash
# `npm run test:k8s`: the Helm chart on a real single-node Kubernetes cluster (docs/testing.md).
# Brings the cluster up (test/k8s/cluster.sh, binaries and images built once and cached), points
# the chart at this machine's PostgreSQL and Redis, runs the steps in test/k8s/*.k8s-spec.ts in
# order, and tears everything down at the end, whatever happened. Needs root; run it alone (it
# takes the node's ports 6443 and 10250 and the pod bridge 10.244.0.0/24).
set -euo pipefail
cd "$(dirname "$0")/../.."
if [[ "$(id -u)" != 0 ]]; then
  echo "test:k8s: needs root (containerd, the kubelet and kube-proxy)" >&2
  exit 1
fi
state="${REVGW_K8S_STATE:-/var/tmp/revgw-k8s}"
database="revgw_k8s"
pg=(psql -h 127.0.0.1 -U postgres -d postgres -qAtc)
forwarders=()

cleanup() {
  local status=$?
  set +e
  if [[ "${status}" != 0 && -d "${state}/logs" ]]; then
    # What the cluster said, for the failure at hand: the last lines of each component's log.
    for log in "${state}"/logs/*.log; do
      echo "---- ${log##*/} (last 30 lines)" >&2
      tail -n 30 "${log}" >&2
    done
  fi
  for pid in "${forwarders[@]}"; do kill "${pid}" 2>/dev/null; done
  bash test/k8s/cluster.sh down
  "${pg[@]}" "DROP DATABASE IF EXISTS ${database} WITH (FORCE)" 2>/dev/null
  exit "${status}"
}
trap cleanup EXIT

HELM_BIN="$(bash test/helm/ensure-helm.sh)"
PROMETHEUS_BIN="$(bash test/k8s/ensure-prometheus.sh)"
export HELM_BIN PROMETHEUS_BIN
bash test/k8s/cluster.sh up
# shellcheck disable=SC1091
source "${state}/env.sh"

# The chart's database, new each run; the pods reach PostgreSQL and Redis through forwarders on
# the pod bridge (only pods reach it), so PostgreSQL sees a local client and its trust rules hold.
"${pg[@]}" "DROP DATABASE IF EXISTS ${database} WITH (FORCE)"
"${pg[@]}" "CREATE DATABASE ${database}"
for pair in 15432:5432 16379:6379; do
  socat "TCP-LISTEN:${pair%%:*},bind=${REVGW_K8S_BRIDGE_IP},fork,reuseaddr" "TCP:127.0.0.1:${pair#*:}" &
  forwarders+=($!)
done
sed "s/BRIDGE_IP/${REVGW_K8S_BRIDGE_IP}/" test/k8s/deps.yaml | kubectl apply -f - >/dev/null

export REVGW_K8S_DATABASE_URL="postgres://postgres@127.0.0.1:5432/${database}"
helm_home="${state}/helm"
export HELM_CONFIG_HOME="${helm_home}/config" HELM_CACHE_HOME="${helm_home}/cache" HELM_DATA_HOME="${helm_home}/data"
npx jest --ci --runInBand --testSequencer ./test/k8s/sequencer.cjs --testRegex '\.k8s-spec\.ts$' --testTimeout 900000 test/k8s
