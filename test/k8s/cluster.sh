#!/usr/bin/env bash
# A single-node Kubernetes cluster on this machine, for the chart's install tests (docs/testing.md):
#   cluster.sh up     start etcd, kube-apiserver, kube-controller-manager, kube-scheduler, containerd
#                     (runc, Debian's CNI plugins on a bridge), kubelet, kube-proxy (iptables) and
#                     CoreDNS; import the images of ensure-images.sh; wait for the node to be Ready
#   cluster.sh down   stop all of it and undo what it did to the host (mounts, network namespaces,
#                     the bridge, iptables chains, cgroups, ip_forward); safe to run twice or after
#                     a half-finished `up`
# Everything lives in ${REVGW_K8S_STATE} (default /var/tmp/revgw-k8s); `up` writes env.sh there
# (KUBECONFIG, the node's addresses). Test-only choices: static bearer tokens instead of client
# certificates, the kubelet's API unauthenticated but open to the node itself only, no cloud provider.
# Runs as root (containerd, kubelet and kube-proxy need it).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
state="${REVGW_K8S_STATE:-/var/tmp/revgw-k8s}"
node_name="revgw-node"
pod_cidr="10.244.0.0/24"
bridge="revgw0"
bridge_ip="10.244.0.1"
service_cidr="10.96.0.0/16"
etcd_port=23790
say() { echo "cluster: $*" >&2; }
# shellcheck source=test/k8s/node-configs.sh
source "${here}/node-configs.sh"

pids_dir="${state}/pids"
# Written by `up`: `down` removes only a folder that has it.
marker=".revgw-k8s-state"
# The kubelet (kernel defaults it insists on) and kube-proxy set these; `down` restores them.
sysctls=(net/ipv4/ip_forward net/ipv4/conf/all/route_localnet net/bridge/bridge-nf-call-iptables
  vm/overcommit_memory vm/panic_on_oom kernel/panic kernel/panic_on_oops kernel/keys/root_maxkeys
  kernel/keys/root_maxbytes net/netfilter/nf_conntrack_tcp_timeout_established
  net/netfilter/nf_conntrack_tcp_timeout_close_wait)
logs="${state}/logs"

start() { # name command… — runs in the background, output in logs/<name>.log
  local name="$1"
  shift
  nohup "$@" >"${logs}/${name}.log" 2>&1 </dev/null &
  echo $! >"${pids_dir}/${name}"
}

wait_for() { # seconds description command…
  local seconds="$1" what="$2"
  shift 2
  for _ in $(seq 1 "$((seconds * 2))"); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 0.5
  done
  say "timed out after ${seconds}s waiting for ${what}"
  return 1
}

kubeconfig() { # file user token
  cat >"$1" <<EOF
apiVersion: v1
kind: Config
clusters:
  - name: revgw
    cluster:
      server: https://${node_ip}:6443
      certificate-authority: ${state}/pki/ca.crt
users:
  - name: $2
    user:
      token: $3
contexts:
  - name: revgw
    context: {cluster: revgw, user: $2}
current-context: revgw
EOF
}

up() {
  if [[ -e "${state}" ]]; then
    say "${state} exists: a cluster may still run; running down first"
    down
  fi
  local bin coredns
  bin="$("${here}/ensure-k8s.sh")"
  coredns="$("${here}/ensure-coredns.sh")"
  images="$("${here}/ensure-images.sh")"
  node_ip="$(ip -4 route get 1.1.1.1 | awk '{for (i = 1; i < NF; i++) if ($i == "src") print $(i + 1)}')"
  mkdir -p "${pids_dir}" "${logs}" "${state}/pki" "${state}/cni/net.d" "${state}/kube"
  touch "${state}/${marker}"
  # What the kubelet and kube-proxy change on the host, put back by `down`.
  for key in "${sysctls[@]}"; do
    [[ -e "/proc/sys/${key}" ]] && echo "${key}=$(cat "/proc/sys/${key}")"
  done >"${state}/sysctl.before"
  ip netns list 2>/dev/null | awk '{print $1}' >"${state}/netns.before"
  echo 1 >/proc/sys/net/ipv4/ip_forward

  say "certificates and tokens"
  (
    cd "${state}/pki"
    openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=revgw-test-ca" -keyout ca.key -out ca.crt 2>/dev/null
    openssl req -newkey rsa:2048 -nodes -subj "/CN=kube-apiserver" -keyout apiserver.key -out apiserver.csr 2>/dev/null
    printf 'subjectAltName=IP:%s,IP:127.0.0.1,IP:10.96.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local\n' \
      "${node_ip}" >apiserver.ext
    openssl x509 -req -in apiserver.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 2 -extfile apiserver.ext -out apiserver.crt 2>/dev/null
    openssl genrsa -out sa.key 2048 2>/dev/null
  )
  local t_admin t_kubelet t_cm t_sched t_proxy
  t_admin="$(openssl rand -hex 16)" t_kubelet="$(openssl rand -hex 16)" t_cm="$(openssl rand -hex 16)"
  t_sched="$(openssl rand -hex 16)" t_proxy="$(openssl rand -hex 16)"
  cat >"${state}/pki/tokens.csv" <<EOF
${t_admin},revgw-admin,revgw-admin,"system:masters"
${t_kubelet},system:node:${node_name},system:node:${node_name},"system:nodes"
${t_cm},system:kube-controller-manager,system:kube-controller-manager
${t_sched},system:kube-scheduler,system:kube-scheduler
${t_proxy},system:kube-proxy,system:kube-proxy
EOF
  chmod 600 "${state}/pki/tokens.csv"
  kubeconfig "${state}/kube/admin.conf" revgw-admin "${t_admin}"
  kubeconfig "${state}/kube/kubelet.conf" "system:node:${node_name}" "${t_kubelet}"
  kubeconfig "${state}/kube/controller-manager.conf" system:kube-controller-manager "${t_cm}"
  kubeconfig "${state}/kube/scheduler.conf" system:kube-scheduler "${t_sched}"
  kubeconfig "${state}/kube/proxy.conf" system:kube-proxy "${t_proxy}"
  cat >"${state}/env.sh" <<EOF
export KUBECONFIG=${state}/kube/admin.conf
export REVGW_K8S_BIN=${bin}
export REVGW_K8S_NODE_IP=${node_ip}
export REVGW_K8S_BRIDGE_IP=${bridge_ip}
export REVGW_K8S_STATE=${state}
export PATH=${bin}:\${PATH}
EOF
  export KUBECONFIG="${state}/kube/admin.conf"

  say "etcd ($(etcd --version | head -n 1))"
  start etcd etcd --name revgw --data-dir "${state}/etcd" \
    --listen-client-urls "http://127.0.0.1:${etcd_port}" --advertise-client-urls "http://127.0.0.1:${etcd_port}" \
    --listen-peer-urls http://127.0.0.1:23800 --initial-advertise-peer-urls http://127.0.0.1:23800 \
    --initial-cluster revgw=http://127.0.0.1:23800 --listen-metrics-urls http://127.0.0.1:23810
  wait_for 30 etcd curl -fsS "http://127.0.0.1:${etcd_port}/health"

  say "kube-apiserver $("${bin}/kube-apiserver" --version)"
  start kube-apiserver "${bin}/kube-apiserver" --etcd-servers "http://127.0.0.1:${etcd_port}" \
    --advertise-address "${node_ip}" --secure-port 6443 \
    --tls-cert-file "${state}/pki/apiserver.crt" --tls-private-key-file "${state}/pki/apiserver.key" \
    --client-ca-file "${state}/pki/ca.crt" --requestheader-client-ca-file "${state}/pki/ca.crt" \
    --requestheader-allowed-names front-proxy-client --token-auth-file "${state}/pki/tokens.csv" \
    --authorization-mode Node,RBAC --enable-admission-plugins NodeRestriction \
    --service-cluster-ip-range "${service_cidr}" \
    --service-account-issuer https://kubernetes.default.svc.cluster.local \
    --service-account-key-file "${state}/pki/sa.key" --service-account-signing-key-file "${state}/pki/sa.key" \
    --kubelet-preferred-address-types InternalIP --profiling=false
  wait_for 90 "the API server to be ready" "${bin}/kubectl" get --raw /readyz

  say "kube-controller-manager and kube-scheduler"
  start kube-controller-manager "${bin}/kube-controller-manager" --kubeconfig "${state}/kube/controller-manager.conf" \
    --authentication-kubeconfig "${state}/kube/controller-manager.conf" \
    --authorization-kubeconfig "${state}/kube/controller-manager.conf" \
    --service-account-private-key-file "${state}/pki/sa.key" --root-ca-file "${state}/pki/ca.crt" \
    --use-service-account-credentials --service-cluster-ip-range "${service_cidr}" \
    --bind-address 127.0.0.1 --leader-elect=false --profiling=false
  start kube-scheduler "${bin}/kube-scheduler" --kubeconfig "${state}/kube/scheduler.conf" \
    --authentication-kubeconfig "${state}/kube/scheduler.conf" --authorization-kubeconfig "${state}/kube/scheduler.conf" \
    --bind-address 127.0.0.1 --leader-elect=false --profiling=false

  say "containerd $(containerd --version | awk '{print $3}') with runc and the bridge CNI"
  # The bridge exists before the first pod so that the node's services (PostgreSQL and Redis
  # forwarders, DNS) can listen on its address, which only pods reach.
  ip link add "${bridge}" type bridge 2>/dev/null || true
  ip addr add "${bridge_ip}/24" dev "${bridge}" 2>/dev/null || true
  ip link set "${bridge}" up
  write_cni_config
  write_containerd_config
  # The kubelet's API (anonymous here), the forwarders to PostgreSQL and Redis and the cluster DNS
  # answer only the node itself and its pods, never the machine's network (Linux would otherwise
  # deliver a packet for the bridge's address that arrives on any interface).
  for rule in "-i lo -p tcp -m multiport --dports 10250,15432,16379 -j ACCEPT" \
    "-i ${bridge} -d ${bridge_ip} -p tcp -m multiport --dports 53,15432,16379 -j ACCEPT" \
    "-i ${bridge} -d ${bridge_ip} -p udp --dport 53 -j ACCEPT" \
    "-p tcp -m multiport --dports 10250,15432,16379 -j DROP" "-d ${bridge_ip} -p tcp --dport 53 -j DROP" \
    "-d ${bridge_ip} -p udp --dport 53 -j DROP"; do
    # shellcheck disable=SC2086 # the rule is words
    iptables -A INPUT -m comment --comment revgw-k8s ${rule}
  done
  start containerd containerd --config "${state}/containerd.toml"
  local ctr=(ctr --address "${state}/containerd/containerd.sock" --namespace k8s.io)
  wait_for 30 containerd "${ctr[@]}" version
  for archive in "${images}"/*.tar; do
    "${ctr[@]}" images import --all-platforms "${archive}" >/dev/null
  done
  say "images: $("${ctr[@]}" images ls -q | grep -v '^sha256:' | tr '\n' ' ')"

  say "kubelet"
  write_kubelet_config
  start kubelet "${bin}/kubelet" --config "${state}/kubelet.yaml" --kubeconfig "${state}/kube/kubelet.conf" \
    --root-dir "${state}/kubelet" --cert-dir "${state}/kubelet/pki" --hostname-override "${node_name}" \
    --node-ip "${node_ip}"

  say "kube-proxy (iptables)"
  write_proxy_config
  start kube-proxy "${bin}/kube-proxy" --config "${state}/kube-proxy.yaml"

  say "CoreDNS on ${bridge_ip}:53"
  write_corefile_config
  start coredns "${coredns}" -conf "${state}/Corefile"
  wait_for 30 CoreDNS curl -fsS http://127.0.0.1:18181/ready

  wait_for 120 "node ${node_name} to be Ready" "${bin}/kubectl" wait --for=condition=Ready "node/${node_name}" --timeout=1s
  say "up: node ${node_name} Ready ($("${bin}/kubectl" get node "${node_name}" -o jsonpath='{.status.nodeInfo.kubeletVersion} {.status.nodeInfo.containerRuntimeVersion}'))"
}

stop_pid() { # name [signal]
  local f="${pids_dir}/$1"
  [[ -f "${f}" ]] || return 0
  local pid
  pid="$(cat "${f}")"
  rm -f "${f}"
  # Only if that PID is still the program started under this name (a PID can be reused).
  [[ "$(tr '\0' ' ' <"/proc/${pid}/cmdline" 2>/dev/null)" == *"$1"* ]] || return 0
  kill "-${2:-TERM}" "${pid}" 2>/dev/null || true
  for _ in $(seq 1 40); do kill -0 "${pid}" 2>/dev/null || break; sleep 0.25; done
  kill -KILL "${pid}" 2>/dev/null || true
}

down() {
  [[ -d "${state}" ]] || return 0
  if [[ ! -e "${state}/${marker}" ]]; then
    if [[ -n "$(ls -A "${state}")" ]]; then
      say "${state} was not made by cluster.sh up (no ${marker}): not touching it"
      return 1
    fi
    rmdir "${state}"
    return 0
  fi
  say "down"
  # shellcheck disable=SC1091
  [[ -f "${state}/env.sh" ]] && source "${state}/env.sh"
  # The kubelet first, so that nothing restarts the containers that are stopped next.
  stop_pid kubelet
  local sock="${state}/containerd/containerd.sock"
  if [[ -S "${sock}" ]] && ctr --address "${sock}" version >/dev/null 2>&1; then
    local ctr=(ctr --address "${sock}" --namespace k8s.io)
    for task in $("${ctr[@]}" tasks ls -q 2>/dev/null); do "${ctr[@]}" tasks kill -s SIGKILL "${task}" 2>/dev/null || true; done
    for _ in $(seq 1 20); do
      [[ -z "$("${ctr[@]}" tasks ls 2>/dev/null | awk 'NR > 1 && $3 != "STOPPED"')" ]] && break
      sleep 0.5
    done
    for task in $("${ctr[@]}" tasks ls -q 2>/dev/null); do "${ctr[@]}" tasks delete -f "${task}" 2>/dev/null || true; done
  fi
  for name in coredns kube-proxy kube-scheduler kube-controller-manager kube-apiserver containerd etcd; do stop_pid "${name}"; done
  pkill -KILL -f "containerd-shim-runc-v2 .*-address ${sock}" 2>/dev/null || true
  # kube-proxy's and the kubelet's iptables chains (KUBE-*: the only Kubernetes on a test machine)
  # and this script's own rules (revgw-k8s).
  if [[ -x "${REVGW_K8S_BIN:-/nonexistent}/kube-proxy" ]]; then "${REVGW_K8S_BIN}/kube-proxy" --cleanup >/dev/null 2>&1 || true; fi
  for save in iptables-save ip6tables-save; do
    if "${save}" 2>/dev/null | grep -qE 'KUBE-|revgw-k8s'; then
      "${save}" | grep -vE 'KUBE-|revgw-k8s' | "${save/-save/-restore}" || say "could not clean the ${save%-save} chains"
    fi
  done
  # Mounts under the state folder (pod volumes, overlay snapshots, sandbox /dev/shm), innermost first.
  { findmnt -rn -o TARGET | awk -v p="${state}/" 'index($0, p) == 1' | sort -r || true; } | while read -r m; do
    umount -l "${m}" 2>/dev/null || true
  done
  # The pods' network namespaces (containerd names them cni-…), not ones that were there before.
  for ns in $(ip netns list 2>/dev/null | awk '/^cni-/ {print $1}'); do
    grep -qx "${ns}" "${state}/netns.before" 2>/dev/null || ip netns delete "${ns}" 2>/dev/null || true
  done
  ip link delete "${bridge}" 2>/dev/null || true
  find /sys/fs/cgroup/*/kubepods -depth -type d -exec rmdir {} \; 2>/dev/null || true
  if [[ -f "${state}/sysctl.before" ]]; then
    while IFS='=' read -r key value; do echo "${value}" >"/proc/sys/${key}" 2>/dev/null || true; done <"${state}/sysctl.before"
  fi
  if findmnt -rn -o TARGET | awk -v p="${state}/" 'index($0, p) == 1' | grep -q .; then
    say "mounts remain under ${state}; not removing it"
    return 1
  fi
  rm -rf --one-file-system "${state}"
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  *)
    echo "usage: $0 up|down" >&2
    exit 2
    ;;
esac
