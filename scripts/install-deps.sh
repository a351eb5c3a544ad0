#!/usr/bin/env bash
# Installs the system packages svcbgp's tests and lab need on Debian 12 (run as root).
# Idempotent: packages already present are skipped, so a warm machine pays nothing.
set -euo pipefail

packages=(
  gobgpd                       # gobgpd 3.10 and the gobgp CLI: the BGP speaker svcbgp drives
  golang-github-osrg-gobgp-dev # upstream v3 .proto files, to check ours against
  bird2                        # a real ToR router (BIRD 2)
  frr                          # a second real ToR router (FRR)
  dumb-init                    # gobgpd runs under it (SIGTERM -> SIGKILL) in the lab, as in the DaemonSet
  iproute2                     # ip netns / veth for the lab
  openssl                      # certificates for the control plane
  curl                         # HTTP from the lab's external host
  nftables                     # nft: kube-proxy's nftables mode programs each lab node's NAT with it
  conntrack                    # conntrack -L/-D in a lab node: what kube-proxy's NAT did (debugging the data path)
  nginx-light                  # Debian's nginx: the article's nginx Pods run it inside their own network namespace
  procps psmisc                # ps / pkill / fuser, used by clean-up
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all system packages present"
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"

# The lab starts nginx itself, one per Pod namespace; the package's own service (port 80 in the root namespace)
# is not wanted. Where the package's install started it, stop it and keep it from starting at boot.
if [[ " ${missing[*]} " == *" nginx-light "* ]] && command -v systemctl >/dev/null && systemctl is-enabled nginx >/dev/null 2>&1; then
  systemctl disable --now nginx || true
fi
