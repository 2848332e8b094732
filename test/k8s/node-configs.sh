# Sourced by test/k8s/cluster.sh: the configuration files of the node's components, written into
# the state folder from the variables cluster.sh sets (state, bridge, bridge_ip, pod_cidr, node_ip).
# shellcheck shell=bash disable=SC2154

# The pod network: Debian's bridge plugin on ${bridge}, host-local addresses from ${pod_cidr}.
write_cni_config() {
  cat >"${state}/cni/net.d/10-revgw.conflist" <<EOF
{
  "cniVersion": "0.4.0",
  "name": "revgw",
  "plugins": [
    {
      "type": "bridge", "bridge": "${bridge}", "isGateway": true, "ipMasq": false, "hairpinMode": true,
      "ipam": {"type": "host-local", "dataDir": "${state}/cni/ipam", "ranges": [[{"subnet": "${pod_cidr}", "gateway": "${bridge_ip}"}]],
               "routes": [{"dst": "0.0.0.0/0"}]}
    },
    {"type": "loopback"}
  ]
}
EOF
}

# containerd with runc, its own root, state and socket under the state folder.
write_containerd_config() {
  cat >"${state}/containerd.toml" <<EOF
version = 2
root = "${state}/containerd/root"
state = "${state}/containerd/state"
disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper"]
[grpc]
  address = "${state}/containerd/containerd.sock"
[ttrpc]
  address = "${state}/containerd/containerd.sock.ttrpc"
[plugins."io.containerd.internal.v1.opt"]
  path = "${state}/containerd/opt"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "localhost/revgw-pause:3.10"
  disable_apparmor = true
  # This machine's root lacks CAP_SYS_RESOURCE: no container may ask for a lower OOM score than
  # containerd's own (the kubelet gives the pause container -998, which runc would fail to set).
  restrict_oom_score_adj = true
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "${state}/cni/net.d"
EOF
}

# The kubelet, on the cgroup v1 hierarchy of this machine.
write_kubelet_config() {
  cat >"${state}/kubelet.yaml" <<EOF
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
containerRuntimeEndpoint: unix://${state}/containerd/containerd.sock
cgroupDriver: cgroupfs
# Kubelet 1.34 still runs on the cgroup v1 hierarchy this machine mounts (1.35 refuses by default).
failCgroupV1: false
failSwapOn: false
clusterDNS: ["${bridge_ip}"]
clusterDomain: cluster.local
resolvConf: /etc/resolv.conf
podLogsDir: ${state}/pod-logs
address: ${node_ip}
healthzBindAddress: 127.0.0.1
readOnlyPort: 0
# Test-only: the API server reads logs and execs without a kubelet client certificate.
authentication: {anonymous: {enabled: true}, webhook: {enabled: false}}
authorization: {mode: AlwaysAllow}
# The machine's disk may be nearly full (it has been seen with 287 MB free): evict only when truly out.
evictionHard: {memory.available: "100Mi", nodefs.available: "1%", imagefs.available: "1%", nodefs.inodesFree: "1%"}
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
serializeImagePulls: false
maxPods: 60
EOF
}

# kube-proxy in iptables mode.
write_proxy_config() {
  cat >"${state}/kube-proxy.yaml" <<EOF
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
clientConnection: {kubeconfig: ${state}/kube/proxy.conf}
hostnameOverride: ${node_name}
mode: iptables
clusterCIDR: ${pod_cidr}
# Leave the host's conntrack table size alone (a VM may not allow setting it).
conntrack: {maxPerCore: 0}
metricsBindAddress: 127.0.0.1:10249
healthzBindAddress: 127.0.0.1:10256
EOF
}

# CoreDNS: the cluster's names from the API server, the rest from the machine's resolver.
write_corefile_config() {
  cat >"${state}/Corefile" <<EOF
.:53 {
    bind ${bridge_ip}
    errors
    health 127.0.0.1:18080
    ready 127.0.0.1:18181
    kubernetes cluster.local in-addr.arpa ip6.arpa {
        kubeconfig ${state}/kube/admin.conf revgw
        pods insecure
        fallthrough in-addr.arpa ip6.arpa
    }
    cache 30
    loadbalance
    forward . /etc/resolv.conf
}
EOF
}
