#!/usr/bin/env bash
# Builds svcbgp's OCI image on this machine, with no container registry: the base is a root file system
# extracted from Debian packages (mmdebstrap), imported into podman's storage, and the Containerfile only
# COPYs files in (no RUN: the image has no shell, and `podman run`-style steps fail in sandboxes where crun
# cannot set rlimits).
#
# What goes in (paths inside the image):
#   /usr/bin/node            Node.js (>= 20.19), copied from $NODE_BIN (Debian's own nodejs is 18: too old)
#   /app/{package.json,dist/src,protos,node_modules}
#                            the built agent and its production dependencies only (npm ci --omit=dev)
#   /usr/bin/svcbgp          symlink to /app/dist/src/cli/main.js (#!/usr/bin/env node, hence /usr/bin/env)
#   /usr/bin/gobgpd, /usr/bin/gobgp
#                            from $GOBGPD_BIN_DIR; gobgpd carries the file capability cap_net_bind_service=ep
#                            so that uid 65532 can listen on port 179 (and nothing else)
#   /usr/bin/dumb-init       Debian's dumb-init: `dumb-init --rewrite 15:9 gobgpd ...` turns the kubelet's
#                            SIGTERM into SIGKILL (no BGP Cease: the ToR keeps the routes as stale)
#   /usr/bin/env             from Debian's coreutils, only so the CLI's shebang works (`svcbgp status`)
#   libc6, libstdc++6, libgcc-s1, netbase from Debian; /etc/passwd with root and nonroot (65532)
# No shell, no package manager, no coreutils beyond env. Default user 65532:65532.
#
# Usage: sudo scripts/build-image.sh [--refresh-base]
# Env:   IMAGE          image name and tag (default localhost/svcbgp:<package.json version>)
#        GOBGPD_BIN_DIR where gobgpd and gobgp come from (default: gobgpd 4.9, the newest v4, from
#                       scripts/build-gobgpd.sh's cache). The gobgpd must accept deploy/40-daemonset.yaml's gobgpd
#                       flags (checked): Debian's 3.10 (/usr/bin) does not know --metrics-path.
#        NODE_BIN       the node binary to ship (default: the node on PATH; must be >= 20.19)
#        SVCBGP_CACHE   cache root (default /var/cache/svcbgp); the work area is $SVCBGP_CACHE/image-build
#        DEBIAN_MIRROR, DEBIAN_SECURITY_MIRROR, DEBIAN_SUITE   where the base packages come from
#        SKIP_TSC=1     do not run `npm run build` (dist/ is already current)
#        CONTAINERS_STORAGE_CONF
#                       podman's own: a storage.conf whose graphroot and runroot hold the base, the layer cache
#                       and the image (default /etc/containers/storage.conf). A first build as on a new machine:
#                       a fresh one of these with a fresh SVCBGP_CACHE (each run then imports its own base)
# --refresh-base rebuilds the Debian base even if one with the same package list exists (security updates).
# Cached between runs: the base image (keyed by its package list), the production node_modules (keyed by
# package-lock.json), and podman's layer cache. Prints the image name, its size and the build time.
set -eEuo pipefail
cd "$(dirname "$0")/.."
REPO=$(pwd)
start=$(date +%s.%N)

log() { echo "[build-image $(date +%H:%M:%S)] $*" >&2; }
die() { log "error: $*"; exit 1; }
# No failure ends the build in silence: the steps below die with a message, and any other command that fails
# (set -e) names itself here. -E: also inside functions and subshells; a subshell or command substitution only
# exits, and the command of this shell that ran it is named.
trap 'rc=$?; [ "$BASH_SUBSHELL" != 0 ] || log "error: line $LINENO: \"$BASH_COMMAND\" failed (exit status $rc)"; exit $rc' ERR

REFRESH_BASE=0
for a in "$@"; do
  case "$a" in
    --refresh-base) REFRESH_BASE=1 ;;
    -h|--help) sed -n '2,/^set -eEuo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument '$a' (see --help)" ;;
  esac
done

[ "$(id -u)" = 0 ] || die "run as root (podman's root storage, mmdebstrap, setcap)"

VERSION=$(node -p "require('./package.json').version")
IMAGE=${IMAGE:-localhost/svcbgp:$VERSION}
DEFAULT_GOBGPD=4.9
NODE_BIN=${NODE_BIN:-$(command -v node)}
CACHE_ROOT=${SVCBGP_CACHE:-/var/cache/svcbgp}
WORK=$CACHE_ROOT/image-build
SUITE=${DEBIAN_SUITE:-bookworm}
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
SECURITY_MIRROR=${DEBIAN_SECURITY_MIRROR:-http://deb.debian.org/debian-security}
# node needs libstdc++6 + libgcc-s1 + libc6; gobgpd, gobgp, dumb-init and env need libc6 only.
BASE_PACKAGES=(libc6 libstdc++6 libgcc-s1 netbase dumb-init)
# Bump when the base's layout (below) changes, so a warm machine rebuilds it.
BASE_LAYOUT=1
NONROOT=65532

# --- tools -----------------------------------------------------------------------------------------------
need=()
command -v podman >/dev/null || need+=(podman)
command -v mmdebstrap >/dev/null || need+=(mmdebstrap)
command -v setcap >/dev/null || need+=(libcap2-bin)
if [ ${#need[@]} -gt 0 ]; then
  log "installing ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq || die "apt-get update failed"
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null || die "apt-get install ${need[*]} failed"
fi

# --- inputs ----------------------------------------------------------------------------------------------
[ -x "$NODE_BIN" ] || die "NODE_BIN=$NODE_BIN is not executable"
node_version=$("$NODE_BIN" --version)
"$NODE_BIN" -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>20||(a===20&&b>=19)?0:1)' ||
  die "$NODE_BIN is $node_version; svcbgp needs Node.js >= 20.19 (package.json engines)"
if [ -z "${GOBGPD_BIN_DIR:-}" ]; then
  GOBGPD_BIN_DIR=$(scripts/build-gobgpd.sh --print "$DEFAULT_GOBGPD") ||
    die "gobgpd $DEFAULT_GOBGPD (the image's default) is not built: run scripts/build-gobgpd.sh $DEFAULT_GOBGPD, or set GOBGPD_BIN_DIR"
fi
for b in gobgpd gobgp; do [ -x "$GOBGPD_BIN_DIR/$b" ] || die "$GOBGPD_BIN_DIR/$b missing (GOBGPD_BIN_DIR)"; done
gobgpd_version=$("$GOBGPD_BIN_DIR/gobgpd" --version | awk '{print $NF}') || die "$GOBGPD_BIN_DIR/gobgpd --version failed"
# The DaemonSet starts gobgpd with these flags, and gobgpd exits on a flag it does not know: check them now, with
# --version (gobgpd parses every flag, prints its version and exits).
daemonset_flags=$(node --input-type=module -e '
  import { readFileSync } from "node:fs"; import { parse } from "yaml";
  const pod = parse(readFileSync("deploy/40-daemonset.yaml", "utf8")).spec.template.spec;
  const command = pod.containers.find((c) => c.name === "gobgpd").command;
  console.log(command.slice(command.indexOf("gobgpd") + 1).join("\n"));') ||
  die "cannot read the gobgpd container's flags from deploy/40-daemonset.yaml"
mapfile -t daemonset_flags <<<"$daemonset_flags"
rejected=$("$GOBGPD_BIN_DIR/gobgpd" "${daemonset_flags[@]}" --version 2>&1 >/dev/null) ||
  die "gobgpd $gobgpd_version rejects deploy/40-daemonset.yaml's flags (${daemonset_flags[*]}): $rejected" \
    "(--metrics-path needs gobgpd >= 3.14; use GOBGPD_BIN_DIR=\$(scripts/build-gobgpd.sh --print $DEFAULT_GOBGPD))"
log "node $node_version from $NODE_BIN, gobgpd $gobgpd_version from $GOBGPD_BIN_DIR, image $IMAGE"

mkdir -p "$WORK"
exec 9>"$WORK/lock"
flock 9 # one build at a time per cache

# --- the Debian base ------------------------------------------------------------------------------------
# Keyed by the package list and the versions this machine's apt lists offer (after an apt-get update that brings
# a security update of libc6, the next build makes a new base); --refresh-base forces one.
# One apt-cache call (~1.5 s each); awk reads all of its output (an awk that exits early can end apt-cache with
# SIGPIPE, which pipefail turns into a failed build) and apt-cache's status is not needed: a package it does not
# know has no line, and is named below.
candidates=$(apt-cache show --no-all-versions "${BASE_PACKAGES[@]}" 2>/dev/null | awk '/^Package:/ {p = $2} /^Version:/ {print p "=" $2}' || true)
base_versions=()
for p in "${BASE_PACKAGES[@]}"; do
  v=$(awk -F= -v p="$p" '$1 == p && !v {v = $2} END {print v}' <<<"$candidates")
  [ -n "$v" ] || die "apt-cache knows no version of $p (a base package): run apt-get update"
  base_versions+=("$p=$v")
done
base_key=$(printf '%s\n' "$SUITE" "$MIRROR" "$SECURITY_MIRROR" "${BASE_PACKAGES[@]}" "layout=$BASE_LAYOUT" "${base_versions[@]}" | sha256sum | cut -c1-16)
BASE_IMAGE=localhost/svcbgp-base:$base_key

build_base() {
  local dir=$WORK/base-$base_key
  rm -rf "$dir"
  mkdir -p "$dir"
  log "base: mmdebstrap --variant=extract ${BASE_PACKAGES[*]} ($SUITE from $MIRROR)"
  # extract: the packages and their dependencies are unpacked, no maintainer script runs (there is no shell
  # to run one), so the root file system holds exactly their files. The hook writes a dpkg status file
  # from the downloaded packages so image scanners see what is inside.
  mmdebstrap --quiet --variant=extract --include="$(IFS=,; echo "${BASE_PACKAGES[*]}")" \
    --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-exclude=/usr/share/man/*' \
    --dpkgopt='path-exclude=/usr/share/locale/*' --dpkgopt='path-exclude=/usr/share/lintian/*' \
    --dpkgopt='path-exclude=/usr/share/gdb/*' --dpkgopt='path-exclude=/usr/share/gcc/*' \
    --dpkgopt='path-exclude=/usr/lib/x86_64-linux-gnu/gconv/*' \
    --customize-hook='for f in "$1"/var/cache/apt/archives/*.deb; do dpkg-deb -f "$f" Package Version Architecture Source Maintainer Description | sed "1a Status: install ok installed"; echo; done > "$1/var/lib/dpkg/status"' \
    "$SUITE" "$dir/rootfs" "deb $MIRROR $SUITE main" "deb $SECURITY_MIRROR $SUITE-security main" ||
    die "mmdebstrap failed (the base packages come from $MIRROR and $SECURITY_MIRROR)"
  local root=$dir/rootfs
  # what a container runtime provides, or what only apt/dpkg use
  rm -rf "$root"/dev/* "$root"/etc/apt "$root"/var/cache/apt "$root"/var/lib/apt "$root"/etc/dpkg \
    "$root"/etc/fstab "$root"/etc/hostname "$root"/etc/resolv.conf "$root"/var/lib/dpkg/{arch,info,triggers,updates,alternatives}
  # /usr/bin/env alone from coreutils (the CLI's shebang is #!/usr/bin/env node)
  local tmp
  tmp=$(mktemp -d)
  (cd "$tmp" && apt-get download -qq coreutils >/dev/null 2>&1) || die "apt-get download coreutils failed"
  dpkg-deb --fsys-tarfile "$tmp"/coreutils_*.deb | tar -x -C "$tmp" ./usr/bin/env
  install -m 0755 "$tmp/usr/bin/env" "$root/usr/bin/env"
  dpkg-deb -f "$tmp"/coreutils_*.deb Package Version Architecture Source | sed '1a Status: install ok installed' >>"$root/var/lib/dpkg/status"
  printf 'Description: only /usr/bin/env of this package is in the image\n\n' >>"$root/var/lib/dpkg/status"
  rm -rf "$tmp"
  # users, like distroless: root and nonroot (65532)
  printf 'root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:%s:%s:nonroot:/home/nonroot:/sbin/nologin\n' "$NONROOT" "$NONROOT" >"$root/etc/passwd"
  printf 'root:x:0:\nnonroot:x:%s:\n' "$NONROOT" >"$root/etc/group"
  printf 'passwd: files\ngroup: files\nhosts: files dns\n' >"$root/etc/nsswitch.conf"
  install -d -m 0700 "$root/root"
  install -d -m 0755 -o "$NONROOT" -g "$NONROOT" "$root/home/nonroot" "$root/run/gobgp"
  install -d -m 1777 "$root/tmp"
  install -d -m 0755 "$root/app"
  ln -sfn /app/dist/src/cli/main.js "$root/usr/bin/svcbgp"
  tar --numeric-owner --xattrs -C "$root" -cf "$dir/rootfs.tar" . || die "tar of the base's root file system failed"
  podman import --quiet --message "svcbgp base: ${BASE_PACKAGES[*]} from Debian $SUITE" "$dir/rootfs.tar" "$BASE_IMAGE" >/dev/null ||
    die "podman import of the base ($BASE_IMAGE) failed"
  rm -rf "$dir"
  # earlier bases (other package versions); one still under a tagged image stays. On a first build the new base
  # is the only one: nothing to remove (a `grep -v` here found no line, exited 1 and, with pipefail, ended the build).
  local bases old
  bases=$(podman images --format '{{.Repository}}:{{.Tag}}' localhost/svcbgp-base) || die "podman images failed"
  for old in $bases; do
    if [ "$old" != "$BASE_IMAGE" ]; then podman rmi "$old" >/dev/null 2>&1 || true; fi
  done
}

if [ "$REFRESH_BASE" = 1 ] || ! podman image exists "$BASE_IMAGE"; then
  build_base
else
  log "base: $BASE_IMAGE (cached)"
fi

# --- the build context ---------------------------------------------------------------------------------
if [ "${SKIP_TSC:-0}" != 1 ]; then
  [ -d node_modules/typescript ] || { log "npm ci (dev dependencies, to compile)"; npm ci --no-audit --no-fund >/dev/null || die "npm ci failed"; }
  log "npm run build"
  npm run build --silent || die "npm run build failed"
fi
[ -f dist/src/cli/main.js ] || die "dist/src/cli/main.js missing: run npm run build"

# production node_modules, keyed by the lock file: npm ci --omit=dev only when package-lock.json changed
lock_key=$( (cat package.json package-lock.json; echo prune=1) | sha256sum | cut -c1-16)
prod=$WORK/node_modules-$lock_key
if [ ! -f "$prod/done" ]; then
  log "npm ci --omit=dev (production dependencies)"
  rm -rf "$prod"
  mkdir -p "$prod"
  cp package.json package-lock.json "$prod/"
  (cd "$prod" && npm ci --omit=dev --no-audit --no-fund --ignore-scripts >/dev/null) || die "npm ci --omit=dev in $prod failed"
  # type declarations and source maps are for compilers and debuggers, not for node (~14 MB)
  find "$prod/node_modules" -type f \( -name '*.d.ts' -o -name '*.d.mts' -o -name '*.d.cts' -o -name '*.map' \) -delete
  find "$WORK" -maxdepth 1 -name 'node_modules-*' ! -name "node_modules-$lock_key" -exec rm -rf {} +
  touch "$prod/done"
else
  log "production node_modules (cached, $lock_key)"
fi

ctx=$WORK/context
rm -rf "$ctx"
mkdir -p "$ctx/bin" "$ctx/app"
# node: stripped of its debug info (~12 MB), cached by the binary's checksum so the layer cache holds
node_key=$(sha256sum "$NODE_BIN" | cut -c1-16)
node_copy=$WORK/node-$node_key
if [ ! -x "$node_copy" ]; then
  find "$WORK" -maxdepth 1 -name 'node-*' -delete
  if command -v strip >/dev/null; then strip -o "$node_copy" "$NODE_BIN"; else cp "$NODE_BIN" "$node_copy"; fi
  chmod 0755 "$node_copy"
fi
cp -p "$node_copy" "$ctx/bin/node"
cp -p "$GOBGPD_BIN_DIR/gobgpd" "$GOBGPD_BIN_DIR/gobgp" "$ctx/bin/"
chmod 0755 "$ctx/bin/"*
# listening on port 179 as uid 65532 needs CAP_NET_BIND_SERVICE; as a file capability it is the only one
# gobgpd can ever get (the container must keep NET_BIND_SERVICE in its bounding set and allow privilege
# escalation, as ingress-nginx does; TCP MD5 needs no capability)
setcap cap_net_bind_service=+ep "$ctx/bin/gobgpd" || die "setcap on gobgpd failed (the cache's file system must keep extended attributes)"
cp -al "$prod/node_modules" "$ctx/app/node_modules"
cp -p package.json "$ctx/app/"
cp -rp protos "$ctx/app/protos"
mkdir -p "$ctx/app/dist"
cp -rp dist/src "$ctx/app/dist/src"
find "$ctx/app/dist" -name '*.map' -delete
chmod 0755 "$ctx/app/dist/src/cli/main.js" # /usr/bin/svcbgp points here (tsc writes 0644; npm's bin link would chmod it)

# --- the image -----------------------------------------------------------------------------------------
log "podman build $IMAGE"
previous=$(podman image inspect --format '{{.Id}}' "$IMAGE" 2>/dev/null || true)
podman build --quiet --layers --pull=never -f "$REPO/Containerfile" \
  --build-arg BASE_IMAGE="$BASE_IMAGE" \
  --label org.opencontainers.image.version="$VERSION" \
  --label org.opencontainers.image.revision="$(git rev-parse HEAD 2>/dev/null || echo unknown)" \
  --label io.svcbgp.node.version="$node_version" \
  --label io.svcbgp.gobgpd.version="$gobgpd_version" \
  -t "$IMAGE" "$ctx" >/dev/null || die "podman build $IMAGE failed"
# the image this build replaced, now untagged (its layers stay as long as the new image shares them)
current=$(podman image inspect --format '{{.Id}}' "$IMAGE")
if [ -n "$previous" ] && [ "$previous" != "$current" ] && [ -z "$(podman image inspect --format '{{join .RepoTags ","}}' "$previous" 2>/dev/null)" ]; then
  podman rmi "$previous" >/dev/null 2>&1 || true
fi

# --- smoke check: the entry points start from the image's own file system -----------------------------
mnt=$(podman image mount "$IMAGE") || die "podman image mount $IMAGE failed"
trap 'podman image unmount "$IMAGE" >/dev/null 2>&1 || true' EXIT
chroot --userspec=$NONROOT:$NONROOT "$mnt" /usr/bin/node --version >/dev/null || die "node does not start inside the image"
chroot --userspec=$NONROOT:$NONROOT "$mnt" /usr/bin/gobgpd --version >/dev/null || die "gobgpd does not start inside the image"
podman image unmount "$IMAGE" >/dev/null
trap - EXIT

size=$(podman image inspect "$IMAGE" --format '{{.Size}}')
end=$(date +%s.%N)
log "built $IMAGE: $(awk -v s="$size" 'BEGIN{printf "%.1f MB", s/1e6}') in $(awk -v a="$start" -v b="$end" 'BEGIN{printf "%.1f s", b-a}')"
echo "$IMAGE"
