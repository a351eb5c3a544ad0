#!/usr/bin/env bash
# Build (once) the pinned gobgpd + gobgp CLI versions the tests, the lab and CI run against, from the Go
# module proxy, into a cache OUTSIDE the repo, and reuse that cache on later runs (same pattern as
# test/k8s/build.sh: stamp file, one builder per cache dir under flock).
#
#   3.10    Debian's gobgpd (/usr/bin/gobgpd, package gobgpd): not built, only checked
#   3.37    github.com/osrg/gobgp/v3 v3.37.0 (the last v3 release)
#   4.8     github.com/osrg/gobgp/v4 v4.8.0
#   4.9     github.com/osrg/gobgp/v4 v4.9.0  (the newest v4: the image carries it)
#
# It also makes sure each v4 module's source is in the Go module cache: test/unit/gobgp/protos-v4.test.ts reads
# upstream's proto/api/*.proto from $(go env GOMODCACHE)/github.com/osrg/gobgp/v4@<version> for every v4 of the
# matrix (a cache hit on the binaries must not leave that test without its reference).
#
# Usage: scripts/build-gobgpd.sh [VERSION...]   build what is missing (default: every version of the matrix);
#                                               prints "<version> <bin dir>" per version on stdout
#        scripts/build-gobgpd.sh --print VERSION  print the bin dir if that version is ready, else exit 3
# Env:   SVCBGP_CACHE (default /var/cache/svcbgp), GOFLAGS/GOPROXY as usual.
set -euo pipefail

CACHE_ROOT="${SVCBGP_CACHE:-/var/cache/svcbgp}"
MATRIX=(3.10 3.37 4.8 4.9)
export GOTOOLCHAIN=local   # never switch toolchains behind the user's back
export CGO_ENABLED=0       # static binaries, as upstream releases are built

log() { echo "[build-gobgpd $(date +%H:%M:%S)] $*" >&2; }

# short version -> Go module version ("" for the Debian package)
module_version() {
  case "$1" in
    3.10) echo "" ;;
    3.37) echo "v3.37.0" ;;
    4.8) echo "v4.8.0" ;;
    4.9) echo "v4.9.0" ;;
    *) log "unknown gobgpd version '$1' (known: ${MATRIX[*]})"; return 1 ;;
  esac
}

module_path() { echo "github.com/osrg/gobgp/$(echo "$1" | cut -d. -f1)"; }  # v4.8.0 -> .../gobgp/v4

bin_dir() {
  local mv
  mv=$(module_version "$1")
  if [ -z "$mv" ]; then echo /usr/bin; else echo "$CACHE_ROOT/gobgpd-$mv/bin"; fi
}

complete() { # $1 = module version
  local dest="$CACHE_ROOT/gobgpd-$1"
  [ -f "$dest/stamp" ] || return 1
  grep -qx "gobgp=$1" "$dest/stamp" || return 1
  [ -x "$dest/bin/gobgpd" ] && [ -x "$dest/bin/gobgp" ]
}

# The upstream protos of a v4 version must be in the module cache (cheap when they already are).
ensure_module_source() { # $1 = module version
  local mod dir
  mod=$(module_path "$1")
  [ "${mod##*/}" = v4 ] || return 0
  dir=$(go env GOMODCACHE)/$mod@$1
  [ -d "$dir/proto/api" ] && return 0
  log "go mod download $mod@$1 (the upstream protos for the proto test)"
  (cd "$CACHE_ROOT" && go mod download "$mod@$1") || { log "go mod download $mod@$1 failed"; return 1; }
}

build_one() { # $1 = module version
  local mv=$1 dest mod start
  dest="$CACHE_ROOT/gobgpd-$mv"
  mod=$(module_path "$mv")
  mkdir -p "$dest"
  exec 9>"$dest/.lock"
  if ! flock -n 9; then
    log "another build holds $dest/.lock; waiting for it"
    flock 9
  fi
  if complete "$mv"; then exec 9>&-; return 0; fi
  start=$(date +%s)
  rm -rf "$dest/bin" && mkdir -p "$dest/bin"
  log "building $mod/cmd/{gobgpd,gobgp}@$mv (cold: a few minutes on 2 cores) -> $dest/bin"
  # `go install pkg@version` builds in module-aware mode from the release's own go.mod and go.sum
  # (checked against sum.golang.org), outside any module of ours.
  (cd "$dest" && GOBIN="$dest/bin" go install -trimpath -ldflags "-s -w" \
    "$mod/cmd/gobgpd@$mv" "$mod/cmd/gobgp@$mv") || { log "go install $mod/cmd/{gobgpd,gobgp}@$mv failed (above)"; return 1; }
  "$dest/bin/gobgpd" --version >&2 || { log "built gobgpd does not run"; return 1; }
  {
    echo "gobgp=$mv"
    echo "module=$mod"
    echo "go=$(go env GOVERSION)"
    echo "built=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
    echo "seconds=$(($(date +%s) - start))"
  } >"$dest/stamp"
  log "built $mv in $(($(date +%s) - start))s"
  exec 9>&-
}

if [ "${1:-}" = "--print" ]; then
  v=${2:?usage: $0 --print VERSION}
  mv=$(module_version "$v")
  if [ -z "$mv" ]; then
    [ -x /usr/bin/gobgpd ] || { log "Debian's gobgpd is not installed (apt-get install gobgpd)"; exit 3; }
  elif ! complete "$mv"; then
    log "no complete build of gobgpd $mv in $CACHE_ROOT/gobgpd-$mv"; exit 3
  fi
  bin_dir "$v"
  exit 0
fi

versions=("$@")
[ ${#versions[@]} -gt 0 ] || versions=("${MATRIX[@]}")
for v in "${versions[@]}"; do
  mv=$(module_version "$v")
  if [ -z "$mv" ]; then
    [ -x /usr/bin/gobgpd ] || { log "Debian's gobgpd is not installed (scripts/install-deps.sh)"; exit 1; }
    log "$v: Debian's $(/usr/bin/gobgpd --version 2>&1 | head -1)"
  else
    command -v go >/dev/null || { log "go is not installed (need Go >= 1.26)"; exit 1; }
    if complete "$mv"; then
      log "cache hit: $(bin_dir "$v") ($(tr '\n' ' ' <"$CACHE_ROOT/gobgpd-$mv/stamp"))"
    else
      build_one "$mv"
    fi
    ensure_module_source "$mv"
  fi
  echo "$v $(bin_dir "$v")"
done
