#!/usr/bin/env bash
# Builds (or finds cached) everything test:k8s needs before it starts a cluster: the Kubernetes
# binaries, CoreDNS, a Prometheus with Kubernetes discovery and the images. `.ci/run` runs it in
# the background, niced, while the test suites run; test/k8s/cluster.sh and run.sh call the same
# scripts, which return at once once cached. Run after test/helm/ensure-helm.sh, never beside it.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
for step in ensure-k8s ensure-coredns ensure-prometheus ensure-images; do
  started=$SECONDS
  "${here}/${step}.sh" >/dev/null
  echo "prepare: [$(date -u +%H:%M:%S)] ${step} $((SECONDS - started)) s"
done
