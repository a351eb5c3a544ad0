#!/usr/bin/env bash
# svcbgp demo: the seed article end to end (shared/seed/calico-service-ip-advertisement.txt).
#
#   scripts/lab.sh [--router bird|frr] [--gobgpd 4.9|4.8|3.37|3.10] [--keep]
#
# On a Debian machine, as root: installs what is missing (system packages, npm packages), builds svcbgp, builds
# or reuses the pinned Kubernetes binaries, then builds the network lab (a ToR running BIRD 2 or FRR, three node
# namespaces with gobgpd, an external host), starts a real Kubernetes control plane, the node simulator (the
# stand-in for kubelets) and one `svcbgp run` per node, walks the article's steps and prints the ToR's routing
# table (`ip route` in its namespace) after each one. Then it tears everything down; --keep leaves it up and
# prints how to look around (gobgp, birdc/vtysh, ip route, kubectl, the agents' /metrics and logs).
# --gobgpd picks the gobgpd the nodes run (default 4.9, the newest v4; 4.8 the v4 before; 3.37 the last v3; 3.10
# Debian's); 3.37, 4.8 and 4.9 are built once by scripts/build-gobgpd.sh (about a minute each) and cached under
# /var/cache/svcbgp.
# The agents speak whichever API it serves (--gobgp-api auto).
#
# Needs: Debian 12 (or newer), root, Node.js >= 20.19 and Go (to build the Kubernetes binaries once, minutes on
# 2 cores; cached under /var/cache/svcbgp afterwards).
set -euo pipefail
cd "$(dirname "$0")/.."

ROUTER=bird
GOBGPD=4.9
KEEP=()
while [ $# -gt 0 ]; do
  case "$1" in
    --router) ROUTER="${2:-}"; shift 2 ;;
    --router=*) ROUTER="${1#--router=}"; shift ;;
    --gobgpd) GOBGPD="${2:-}"; shift 2 ;;
    --gobgpd=*) GOBGPD="${1#--gobgpd=}"; shift ;;
    --keep) KEEP=(--keep); shift ;;
    -h|--help) sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "lab.sh: unknown argument $1 (usage: scripts/lab.sh [--router bird|frr] [--gobgpd 4.9|4.8|3.37|3.10] [--keep])" >&2; exit 2 ;;
  esac
done
case "$ROUTER" in bird|frr) ;; *) echo "lab.sh: --router wants bird or frr, got '$ROUTER'" >&2; exit 2 ;; esac
case "$GOBGPD" in 3.10|3.37|4.8|4.9) ;; *) echo "lab.sh: --gobgpd wants 4.9, 4.8, 3.37 or 3.10, got '$GOBGPD'" >&2; exit 2 ;; esac

T0=$(date +%s)
step() { echo; echo "### [$(( $(date +%s) - T0 ))s] $*"; }
die() { echo "lab.sh: $*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || die "needs root (network namespaces, routers); try: sudo $0 $*"

step "1/5 system packages (gobgpd, bird2, frr, iproute2, curl, ...)"
scripts/install-deps.sh

command -v node >/dev/null 2>&1 || die "Node.js >= 20.19 is needed (Debian 12's nodejs is 18: use NodeSource or nvm)"
node -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>20||(a===20&&b>=19)?0:1)' \
  || die "Node.js >= 20.19 is needed, found $(node --version)"
echo "node $(node --version)"

step "2/5 npm packages"
if [ -d node_modules ]; then
  echo "node_modules present (npm ci runs only when it is missing)"
else
  npm ci --no-audit --no-fund
fi

step "3/5 build svcbgp (tsc)"
if ! npm run --silent build; then
  # A half-finished part elsewhere in the tree must not stop the demo when its own files were emitted.
  [ -f dist/test/e2e/seed/demo.js ] && [ -f dist/src/cli/main.js ] || die "build failed"
  echo "lab.sh: tsc reported errors (above); the demo's files were built, continuing" >&2
fi

step "4/5 Kubernetes control-plane binaries and gobgpd $GOBGPD (pinned releases; a cold build takes several minutes)"
command -v go >/dev/null 2>&1 || [ -x /usr/local/go/bin/go ] || [ -d /var/cache/svcbgp ] || \
  die "Go is needed once to build the Kubernetes binaries (https://go.dev/dl/, or apt-get install golang-go if new enough)"
export PATH="$PATH:/usr/local/go/bin"
scripts/build-k8s.sh >/dev/null
scripts/build-gobgpd.sh "$GOBGPD" >/dev/null
export SVCBGP_GOBGPD="$GOBGPD"
# The matching `gobgp` CLI first on PATH, for the commands the demo prints (the 3.x CLI cannot talk to gobgpd 4.x).
PATH="$(scripts/build-gobgpd.sh --print "$GOBGPD"):$PATH"
export PATH

step "5/5 the lab and the article's steps (router: $ROUTER, gobgpd $GOBGPD)"
exec node dist/test/e2e/seed/demo.js --router "$ROUTER" "${KEEP[@]}"
