#!/usr/bin/env bash
# The gobgpd version matrix: the tiers that talk to gobgpd (test/integration/gobgp, test/integration/agent) once per
# gobgpd version. `npm test` runs the whole suite on the default version (SVCBGP_GOBGPD, default 3.10); this adds
# the other versions. Why only these tiers per version: they are where the wire API and gobgpd's behaviour
# matter (codec, detection, provisioning, graceful restart, the agent against a real API server), and they take
# ~2 minutes per version on 2 cores; the seed article's e2e walk runs in `npm test` (default version) and here on
# the versions in SVCBGP_MATRIX_E2E (default 4.9); any version by hand with
# `SVCBGP_GOBGPD=3.37 npx mocha 'dist/test/e2e/*.test.js'` or `scripts/lab.sh --gobgpd 3.37`.
#
# Usage: scripts/test-matrix.sh [VERSION...]   (default: 3.37 4.8 4.9; needs `npm run build` and scripts/build-gobgpd.sh)
# Prints one line per version: "gobgpd <v>: <n> passed, <n> failed, <n> skipped (<s>s)"; exits 1 if any failed.
set -euo pipefail
cd "$(dirname "$0")/.."

# The "ToR" gobgpd of the session tests (test/helpers/bgp-speaker.ts) stays Debian's 3.10 for every version: the
# matrix varies the node's gobgpd, the one svcbgp drives (production ToRs are BIRD/FRR: the e2e tier). Seen here
# with gobgpd 3.37 as the ToR: when the node's gobgpd is SIGKILLed, the 3.37 ToR drops its routes at once instead of
# keeping them stale, and the session takes ~25 s to come back (the node closes accepted connections while its peer
# idles); a 3.10 or 4.8 ToR keeps them (graceful-restart.test.ts). A 3.37 node under a 3.10 or 4.8 ToR is fine.
export SVCBGP_SPEAKER_GOBGPD="${SVCBGP_SPEAKER_GOBGPD:-3.10}"

versions=("$@")
[ ${#versions[@]} -gt 0 ] || versions=(3.37 4.8 4.9)
rc=0
summary=()
for v in "${versions[@]}"; do
  printf '\n== gobgpd %s (ToR speaker %s): test/integration/gobgp, test/integration/agent (%s)\n' "$v" "$SVCBGP_SPEAKER_GOBGPD" "$(date +%T)"
  out=$(mktemp)
  start=$(date +%s)
  set +e
  # --no-config: .mocharc.json's spec (every test) would be added to the files named here.
  files=('dist/test/integration/gobgp/*.test.js' 'dist/test/integration/agent/*.test.js')
  # The largest path svcbgp can build must reach a real ToR on every version (a path over one BGP message crashes
  # gobgpd 3.10): BIRD and FRR in the lab, a few seconds.
  files+=('dist/test/e2e/lab-path-size.test.js')
  # The seed article's e2e walk (BIRD and FRR, IPv4-only ToRs, ~2 minutes) also on the versions in
  # SVCBGP_MATRIX_E2E (default 4.9: the newest, the one the image carries); `npm test` walks it on the default.
  for e in ${SVCBGP_MATRIX_E2E-4.9}; do [ "$e" = "$v" ] && files+=('dist/test/e2e/seed-article.test.js'); done
  # On the matrix the walk takes the IPv4-only ToRs (where gobgpd's version mattered: its selection deferral); both
  # ToR modes run in `npm test`.
  SVCBGP_SEED_TOR_MODES="${SVCBGP_SEED_TOR_MODES:-ipv4-only}" SVCBGP_GOBGPD="$v" npx mocha --no-config --timeout 60000 --slow 2000 --exit "${files[@]}" 2>&1 | tee "$out"
  r=${PIPESTATUS[0]}
  set -e
  [ "$r" = 0 ] || rc=1
  passed=$(grep -Eo '^ *[0-9]+ passing' "$out" | tail -1 | grep -Eo '[0-9]+' || echo 0)
  failed=$(grep -Eo '^ *[0-9]+ failing' "$out" | tail -1 | grep -Eo '[0-9]+' || echo 0)
  pending=$(grep -Eo '^ *[0-9]+ pending' "$out" | tail -1 | grep -Eo '[0-9]+' || echo 0)
  summary+=("gobgpd $v: ${passed} passed, ${failed} failed, ${pending} skipped ($(($(date +%s) - start))s)")
  rm -f "$out"
done
printf '\n'
printf '%s\n' "${summary[@]}"
exit "$rc"
