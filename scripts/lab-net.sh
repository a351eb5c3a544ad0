#!/usr/bin/env bash
# svcbgp network lab: namespaces + a BIRD 2 or FRR ToR + gobgpd per node. Needs root.
#   scripts/lab-net.sh up [--router bird|frr] [--bare]   build a lab and leave it up
#   scripts/lab-net.sh demo [--router bird|frr] [--keep] the article's routing steps, ToR table after each
#   scripts/lab-net.sh list | down <id> | cleanup [--all]
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ $EUID -ne 0 ]]; then echo "lab-net.sh: needs root (ip netns)" >&2; exit 1; fi
missing=()
for bin in ip gobgpd gobgp bird birdc vtysh /usr/lib/frr/zebra /usr/lib/frr/bgpd node; do
  command -v "$bin" >/dev/null 2>&1 || missing+=("$bin")
done
if ((${#missing[@]})); then
  echo "lab-net.sh: missing ${missing[*]}; install with: apt-get install -y iproute2 gobgpd bird2 frr nodejs" >&2
  exit 1
fi
if [[ ! -f dist/test/lab/cli.js || -n "$(find test/lab -name '*.ts' -newer dist/test/lab/cli.js 2>/dev/null)" ]]; then
  echo "building (tsc) ..." >&2
  npx tsc -p tsconfig.json >/dev/null || [[ -f dist/test/lab/cli.js ]] # other parts' type errors do not stop the emit
fi
exec node dist/test/lab/cli.js "$@"
