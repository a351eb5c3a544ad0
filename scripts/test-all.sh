#!/usr/bin/env bash
# The one command that installs everything svcbgp's tests need on a fresh Debian 12 machine and runs
# all of them: unit, integration (real gobgpd, real Kubernetes API server) and end to end (network lab
# with BIRD and FRR). Run as root: the lab creates network namespaces.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n== %s (%s)\n' "$1" "$(date +%T)"; }

step "system packages"
scripts/install-deps.sh

step "npm packages"
npm ci --no-audit --no-fund

step "lint: one-way layers (.dependency-cruiser.cjs) and Biome (biome.json)"
npm run lint

step "Kubernetes components (cached after the first build)"
scripts/build-k8s.sh

step "gobgpd versions of the matrix (cached after the first build; also fetches the v4 protos for the proto test)"
scripts/build-gobgpd.sh

# The image is built so that test/integration/image runs (it skips without an image), with the default gobgpd
# (the newest v4). About 1-1.5 min with empty caches on 2 cores (plus installing podman, mmdebstrap and
# libcap2-bin if missing), ~15 s warm plus its `npm run build`. SVCBGP_BUILD_IMAGE=0 skips it.
if [ "${SVCBGP_BUILD_IMAGE:-1}" != 0 ]; then
  step "container image (base and production node_modules cached after the first build)"
  # (a separate assignment: a failed --print ends the run here, where `VAR=$(...) cmd` would build with /usr/bin)
  image_gobgpd=$(scripts/build-gobgpd.sh --print 4.9)
  GOBGPD_BIN_DIR="$image_gobgpd" scripts/build-image.sh
fi

step "tests"
out=$(mktemp)
trap 'rm -f "$out"' EXIT
set +e
npm test 2>&1 | tee "$out"
rc=${PIPESTATUS[0]}
set -e
passed=$(grep -Eo '^ *[0-9]+ passing' "$out" | tail -1 | grep -Eo '[0-9]+' || echo 0)
failed=$(grep -Eo '^ *[0-9]+ failing' "$out" | tail -1 | grep -Eo '[0-9]+' || echo 0)
pending=$(grep -Eo '^ *[0-9]+ pending' "$out" | tail -1 | grep -Eo '[0-9]+' || echo 0)

step "gobgpd matrix: the gobgpd tiers on the other versions (scripts/test-matrix.sh)"
others=()
for v in 3.10 3.37 4.8 4.9; do [ "$v" = "${SVCBGP_GOBGPD:-3.10}" ] || others+=("$v"); done
mout=$(mktemp)
trap 'rm -f "$out" "$mout"' EXIT
set +e
scripts/test-matrix.sh "${others[@]}" 2>&1 | tee "$mout"
mrc=${PIPESTATUS[0]}
set -e
# One closing line for the whole run: the full suite plus every matrix version.
sum() { grep -Eo "^gobgpd [0-9.]+: [0-9]+ passed, [0-9]+ failed, [0-9]+ skipped" "$mout" | awk -v k="$1" '{ for (i = 1; i < NF; i++) if ($(i + 1) ~ "^" k) s += $i } END { print s + 0 }'; }
mp=$(sum passed); mf=$(sum failed); ms=$(sum skipped)
echo "full suite on gobgpd ${SVCBGP_GOBGPD:-3.10}: ${passed} passed, ${failed} failed, ${pending} skipped; matrix (${others[*]}): ${mp} passed, ${mf} failed, ${ms} skipped"
[ "$rc" = 0 ] && rc=$mrc
echo "total: $((passed + mp)) passed, $((failed + mf)) failed, $((pending + ms)) skipped"
exit "$rc"
