#!/usr/bin/env bash
# Build (once) the real Kubernetes binaries the tests and the lab run:
#   kube-apiserver, kube-controller-manager, kube-scheduler, kubectl  (k8s.io/kubernetes at $K8S_VERSION)
#   kube-proxy                                                       (same release; the lab's node data path)
#   etcd                                                             (go.etcd.io/etcd/server/v3, the version
#                                                                     that Kubernetes release itself requires)
# from the Go module proxy, into a cache OUTSIDE the repo, and reuse that cache on later runs.
#
# Why a throwaway go.mod: k8s.io/kubernetes is not meant to be used as a module. Its go.mod requires the
# staging modules (k8s.io/api, k8s.io/client-go, ...) at v0.0.0 and maps them with `replace` to
# ./staging/src/...; replace directives of a dependency are ignored, so our own go.mod must map each of them
# to its published version (v0.X.Y for Kubernetes v1.X.Y). The list is DERIVED from the release's own go.mod
# (not typed by hand), so a version bump needs no edit here.
#
# Why we build etcd instead of using Debian's etcd-server 3.4.23: Kubernetes >= 1.31 relies on etcd health
# endpoints that were only backported to 3.4.29 / 3.5.11 (kubernetes/website#54030), and the release we pin
# is developed and tested against etcd 3.6/3.7. Building it from go.etcd.io/etcd/server/v3's etcdmain package
# (the same code the etcd binary's main.go calls) in the same `go build` shares most of the dependency graph.
#
# Add-on build: a cache filled before kube-proxy was on the list (the five others, a valid stamp and the
# throwaway module in $DEST/src) is completed by building kube-proxy alone into the same bin dir, from the
# same module (its go.mod/go.sum are kept; `go mod tidy` only adds what kube-proxy imports, which cannot
# move a version: they all come from the release's own requirements). The five are not rebuilt and $DEST/src
# is not removed. A fresh cache builds all six in one `go build`.
#
# Usage: test/k8s/build.sh            build if needed; print the bin dir on the last line of stdout
#        test/k8s/build.sh --print    print the bin dir if the cache is complete (all six), else exit 3 (no build)
# Env:   K8S_VERSION (default v1.37.2), SVCBGP_CACHE (default /var/cache/svcbgp), GOFLAGS/GOPROXY as usual.
set -euo pipefail

K8S_VERSION="${K8S_VERSION:-v1.37.2}"
CACHE_ROOT="${SVCBGP_CACHE:-/var/cache/svcbgp}"
DEST="$CACHE_ROOT/k8s-$K8S_VERSION"
BIN="$DEST/bin"
STAMP="$DEST/stamp"
# The Kubernetes commands (cmd/<name>) and etcd, built together on a fresh machine.
K8S_CMDS=(kube-apiserver kube-controller-manager kube-scheduler kubectl kube-proxy)
BINARIES=("${K8S_CMDS[@]}" etcd)
# What a cache built before kube-proxy was added holds: with these present, only the add-ons are built.
FIRST_SET=(kube-apiserver kube-controller-manager kube-scheduler kubectl etcd)
ADDONS=(kube-proxy)
export GOTOOLCHAIN=local   # Go 1.26 builds this release; never switch toolchains behind the user's back
export CGO_ENABLED=0       # static binaries, as upstream releases are built

log() { echo "[build-k8s $(date +%H:%M:%S)] $*" >&2; }

complete() {
  [ -f "$STAMP" ] || return 1
  grep -qx "kubernetes=$K8S_VERSION" "$STAMP" || return 1
  for b in "${BINARIES[@]}"; do [ -x "$BIN/$b" ] || return 1; done
}

# The first set is built and its module is still there: only the add-ons are missing.
addon_only() {
  [ -f "$STAMP" ] && grep -qx "kubernetes=$K8S_VERSION" "$STAMP" || return 1
  for b in "${FIRST_SET[@]}"; do [ -x "$BIN/$b" ] || return 1; done
  [ -f "$DEST/src/go.mod" ] && [ -f "$DEST/src/go.sum" ] && [ -f "$DEST/src/tools.go" ] || return 1
  grep -q "k8s.io/kubernetes $K8S_VERSION\$" "$DEST/src/go.mod"
}

if complete; then
  log "cache hit: $BIN ($(tr '\n' ' ' <"$STAMP"))"
  echo "$BIN"
  exit 0
fi
if [ "${1:-}" = "--print" ]; then
  log "no complete build in $DEST"
  exit 3
fi

command -v go >/dev/null || { log "go is not installed (need Go >= 1.26)"; exit 1; }
mkdir -p "$DEST"
# One builder at a time per cache dir (parallel test runs on a fresh machine).
exec 9>"$DEST/.lock"
if ! flock -n 9; then
  log "another build holds $DEST/.lock; waiting for it"
  flock 9
  if complete; then log "cache filled by the other build"; echo "$BIN"; exit 0; fi
fi

START=$(date +%s)
SRC="$DEST/src"
VPKG=k8s.io/component-base/version
CPKG=k8s.io/client-go/pkg/version
MIN=$(echo "$K8S_VERSION" | sed -E 's/^v1\.([0-9]+)\..*/\1/')

# -X flags that stamp the version in (`kubectl version` says $K8S_VERSION); $1 = etcd version
ldflags() {
  local p x=""
  for p in $VPKG $CPKG; do
    x="$x -X $p.gitVersion=$K8S_VERSION -X $p.gitMajor=1 -X $p.gitMinor=$MIN -X $p.gitTreeState=clean"
    x="$x -X $p.buildDate=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
  done
  echo "-s -w $x -X go.etcd.io/etcd/api/v3/version.GitSHA=module-$1"
}

# tools.go names every Kubernetes command we build, so `go mod tidy` keeps their packages in go.sum
write_tools_go() {
  local c
  {
    echo '//go:build tools'
    echo
    echo '// Keeps the command packages in the module graph for `go mod tidy`.'
    echo 'package tools'
    echo
    echo 'import ('
    for c in "${K8S_CMDS[@]}"; do printf '\t_ "k8s.io/kubernetes/cmd/%s"\n' "$c"; done
    echo ')'
  } >tools.go
}

# go build with a line a minute, so a long compile does not look hung
compile() {
  local t ticker
  t=$(date +%s)
  ( while sleep 60; do log "... still compiling ($(($(date +%s) - t))s)"; done ) &
  ticker=$!
  trap 'kill '"$ticker"' 2>/dev/null || true' EXIT
  go build -trimpath "$@"
  kill "$ticker" 2>/dev/null || true
  trap - EXIT
  log "compiled in $(($(date +%s) - t))s"
}

if addon_only; then
  cd "$SRC"
  ETCD_VERSION=$(sed -n 's/^etcd=//p' "$STAMP")
  log "the first set (${FIRST_SET[*]}) is cached; building only ${ADDONS[*]} from the same module in $SRC"
  [ "$(sed -n 's/^go=//p' "$STAMP")" = "$(go env GOVERSION)" ] ||
    log "note: the cache was built with $(sed -n 's/^go=//p' "$STAMP"), this build uses $(go env GOVERSION)"
  write_tools_go
  log "go mod tidy (adds the modules ${ADDONS[*]} imports; the versions come from the release's go.mod)"
  T=$(date +%s)
  go mod tidy
  log "modules ready in $(($(date +%s) - T))s"
  log "add-on build (a few minutes on 2 cores; packages shared with the first set come from the Go build cache)"
  pkgs=()
  for b in "${ADDONS[@]}"; do pkgs+=("k8s.io/kubernetes/cmd/$b"); done
  compile -ldflags "$(ldflags "$ETCD_VERSION")" -o "$BIN/" "${pkgs[@]}"
  {
    echo "addons=${ADDONS[*]}"
    echo "addons-go=$(go env GOVERSION)"
    echo "addons-built=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
    echo "addons-seconds=$(($(date +%s) - START))"
  } >>"$STAMP"
  complete || { log "add-on build finished but the cache is still incomplete"; exit 1; }
  for b in "${ADDONS[@]}"; do log "$(ls -la "$BIN/$b" | awk '{printf "%s %d MiB", $NF, $5/1048576}')"; done
  log "done in $(($(date +%s) - START))s total; stamp: $STAMP"
  echo "$BIN"
  exit 0
fi

rm -rf "$SRC" && mkdir -p "$SRC/etcd" "$BIN"
rm -f "$STAMP"   # a stamp without the binaries it names must not survive a failed rebuild
cd "$SRC"
log "resolving k8s.io/kubernetes@$K8S_VERSION through the Go module proxy"
# -json puts go's error on stdout (its "Error" field): say it, rather than let set -e end the build in silence
KJSON=$(go mod download -json "k8s.io/kubernetes@$K8S_VERSION") ||
  { log "could not download k8s.io/kubernetes@$K8S_VERSION: $(sed -n 's/.*"Error": "\(.*\)".*/\1/p' <<<"$KJSON")"; exit 1; }
KMOD=$(sed -n 's/.*"GoMod": "\(.*\)".*/\1/p' <<<"$KJSON")
[ -f "$KMOD" ] || { log "could not download k8s.io/kubernetes@$K8S_VERSION (no go.mod in the module cache)"; exit 1; }
MINOR=$(echo "$K8S_VERSION" | sed -E 's/^v1\.([0-9]+)\.([0-9]+).*/0.\1.\2/')  # v1.37.2 -> 0.37.2
GOVER=$(sed -n 's/^go \([0-9.]*\)$/\1/p' "$KMOD")
ETCD_VERSION=$(awk '$1=="go.etcd.io/etcd/server/v3"{print $2}' "$KMOD")

{
  echo "// Generated by test/k8s/build.sh: a throwaway module that builds Kubernetes $K8S_VERSION binaries."
  echo "module svcbgp.local/k8sbuild"
  echo
  echo "go $GOVER"
  echo
  echo "require ("
  echo "	k8s.io/kubernetes $K8S_VERSION"
  echo "	go.etcd.io/etcd/server/v3 $ETCD_VERSION"
  echo ")"
  echo
  echo "replace ("
  # every `k8s.io/X => ./staging/src/k8s.io/X` of the release becomes `k8s.io/X => k8s.io/X v0.Y.Z`
  sed -n '/^replace (/,/^)/p' "$KMOD" |
    sed -n -E "s#^[[:space:]]*(k8s\.io/[^ ]+) => \./staging/src/k8s\.io/.*#\t\1 => \1 v$MINOR#p"
  echo ")"
} >go.mod
log "go.mod: $(grep -c ' => ' go.mod) staging modules mapped to v$MINOR; etcd $ETCD_VERSION"

write_tools_go
cat >etcd/main.go <<'EOF'
// etcd's own main.go is exactly this call.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }
EOF

log "go mod tidy (downloads the dependency graph: first time ~1-3 min)"
T=$(date +%s)
go mod tidy
log "modules ready in $(($(date +%s) - T))s"

log "cold build takes several minutes (10-25 min on 2 cores): building ${K8S_CMDS[*]} and etcd"
log "in ONE go build (they share most packages) -> $BIN"
pkgs=()
for b in "${K8S_CMDS[@]}"; do pkgs+=("k8s.io/kubernetes/cmd/$b"); done
compile -ldflags "$(ldflags "$ETCD_VERSION")" -o "$BIN/" "${pkgs[@]}" ./etcd

{
  echo "kubernetes=$K8S_VERSION"
  echo "etcd=$ETCD_VERSION"
  echo "go=$(go env GOVERSION)"
  echo "built=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "seconds=$(($(date +%s) - START))"
} >"$STAMP"
for b in "${BINARIES[@]}"; do log "$(ls -la "$BIN/$b" | awk '{printf "%s %d MiB", $NF, $5/1048576}')"; done
log "done in $(($(date +%s) - START))s total; stamp: $STAMP"
echo "$BIN"
