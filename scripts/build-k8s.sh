#!/usr/bin/env bash
# Build (or reuse) the pinned Kubernetes control-plane binaries: see test/k8s/build.sh for the details.
exec "$(dirname "$0")/../test/k8s/build.sh" "$@"
