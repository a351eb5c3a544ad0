#!/usr/bin/env bash
# Start a REAL Kubernetes control plane on loopback, for the tests and the lab:
#   etcd + kube-apiserver + kube-controller-manager + kube-scheduler (built by test/k8s/build.sh)
# with the seed article's ranges, dual-stack: Service cluster IPs 10.49.0.0/16 and fd00:49::/112, pod network
# 10.48.0.0/16 and fd00:48::/56 (the controller-manager allocates each Node a /24 and a /64 podCIDR from them).
#
# Everything lives in one temporary run dir (certificates, keys, kubeconfigs, etcd data, logs) that is
# removed again when the control plane stops: on SIGINT/SIGTERM/SIGHUP, when a component dies, or when the
# process given with --parent-pid goes away (so a test runner killed with SIGKILL leaves nothing behind).
#
# Usage:  test/k8s/control-plane.sh [--run-dir DIR] [--parent-pid PID] [--keep]
#   Prints progress on stderr; on stdout, once ready:
#     KUBECONFIG=<run dir>/admin.kubeconfig
#     SVCBGP_K8S_READY {"kubeconfig":...,"server":...,"runDir":...,"binDir":...,"ports":{...},"pids":{...}}
#   then waits until it is stopped (Ctrl-C). The lab/demo: run it in a terminal, then in another
#     export KUBECONFIG=<printed path>; <run dir>/kubectl get nodes
# Env:    ETCD_PORT ETCD_PEER_PORT APISERVER_PORT KCM_PORT SCHEDULER_PORT (default: free loopback ports),
#         SVCBGP_CACHE, K8S_VERSION (see build.sh), SVCBGP_KEEP_RUNDIR=1 (same as --keep: keep the dir, for debugging)
#
# Decisions (written down here, next to the code):
# - Loopback only: every component binds 127.0.0.1; etcd speaks plain HTTP on 127.0.0.1 (nothing else can
#   reach it, and it keeps start-up fast); the API server is HTTPS with a generated CA and client certs.
# - The node lifecycle controller stays ON: the node simulator renews each Node's Lease in kube-node-lease
#   every 10 s like a kubelet, so Nodes stay Ready, and a test or the lab can stop a node's heartbeat to
#   see the real "node unreachable" behaviour. Nothing else that needs a kubelet matters to svcbgp.
# - The DenyServiceExternalIPs admission plugin is explicitly disabled: the seed article assigns
#   spec.externalIPs (192.168.3.180) and svcbgp advertises them (inside the configured CIDRs only).
# - --endpoint-reconciler-type none: the API server refuses to publish a loopback address as the endpoint of
#   the default/kubernetes Service ("may not be in the loopback range"), and nothing here needs that endpoint
#   (clients use the kubeconfig). The Service itself (10.49.0.1) exists as usual.
# - Dual-stack, IPv4 first: a Service without ipFamilyPolicy is SingleStack IPv4 (the primary family), exactly as
#   on a single-stack cluster, and so is the default kubernetes Service (10.49.0.1); only a Service that asks for
#   PreferDualStack/RequireDualStack also gets an IPv6 cluster IP from fd00:49::/112 (the dual-stack seed walk,
#   test/e2e/seed-article-dual-stack.test.ts). /112: the API server refuses a secondary IPv6 range wider than /108
#   (its allocator bitmap); 65,536 addresses are plenty. A dual-stack --cluster-cidr needs the per-family
#   --node-cidr-mask-size-ipv4/-ipv6 (kube-controller-manager refuses --node-cidr-mask-size with two CIDRs), and
#   spec.podCIDR stays the IPv4 one (spec.podCIDRs has both), so single-stack readers see what they saw before.
# - Leader election is off (one replica each): start-up is a few seconds faster.
set -euo pipefail

HERE="$(cd "$(dirname "$0")" && pwd)"
RUN_DIR=""
PARENT_PID=""
KEEP="${SVCBGP_KEEP_RUNDIR:-0}"
while [ $# -gt 0 ]; do
  case "$1" in
    --run-dir) RUN_DIR="$2"; shift 2 ;;
    --parent-pid) PARENT_PID="$2"; shift 2 ;;
    --keep) KEEP=1; shift ;;
    -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
done

SERVICE_CIDR=10.49.0.0/16,fd00:49::/112
POD_CIDR=10.48.0.0/16,fd00:48::/56
NODE_CIDR_MASK_V4=24
NODE_CIDR_MASK_V6=64
T0=$(date +%s%N)
log() { echo "[control-plane $(date +%H:%M:%S)] $*" >&2; }
elapsed() { echo "$(( ($(date +%s%N) - T0) / 1000000 ))ms"; }

BIN="$("$HERE/build.sh" | tail -1)"
[ -x "$BIN/kube-apiserver" ] || { log "build failed: no binaries in '$BIN'"; exit 1; }

if [ -z "$RUN_DIR" ]; then RUN_DIR="$(mktemp -d /tmp/svcbgp-k8s.XXXXXX)"; else mkdir -p "$RUN_DIR"; fi
mkdir -p "$RUN_DIR/logs" "$RUN_DIR/pki"
PIDS=()      # in start order; stopped in reverse
NAMES=()
STOPPING=0
APISERVER_DOWN=0   # 1 between SIGUSR1 and SIGUSR2 (a test's API-server outage)

stop_all() {
  local rc=$?
  [ "$STOPPING" = 1 ] && return
  STOPPING=1
  trap - EXIT
  trap '' INT TERM HUP   # a second Ctrl-C must not interrupt the clean-up
  # Reverse start order: the controllers first, then the API server (while etcd still answers, so it
  # shuts down cleanly within a second or two), etcd last. SIGKILL after 10 s per step.
  local i step
  for step in controllers kube-apiserver etcd; do
    local group=()
    for i in "${!NAMES[@]}"; do
      case "$step:${NAMES[$i]}" in
        controllers:kube-controller-manager|controllers:kube-scheduler|kube-apiserver:kube-apiserver|etcd:etcd) group+=("${PIDS[$i]}") ;;
      esac
    done
    [ ${#group[@]} -eq 0 ] && continue
    kill -TERM "${group[@]}" 2>/dev/null || true
    for _ in $(seq 1 50); do
      local alive=0
      for p in "${group[@]}"; do kill -0 "$p" 2>/dev/null && alive=1; done
      [ $alive = 0 ] && break
      sleep 0.2
    done
    kill -KILL "${group[@]}" 2>/dev/null || true
  done
  wait 2>/dev/null || true
  if [ "$KEEP" = 1 ]; then log "stopped; run dir kept: $RUN_DIR"; else rm -rf "$RUN_DIR"; log "stopped; removed $RUN_DIR"; fi
  exit "$rc"
}
trap stop_all EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

# --- free loopback ports (20000-29999: below the kernel's ephemeral range, so outgoing connections
# cannot take them between our check and the bind) ------------------------------------------------------
TAKEN="$(ss -Htan 2>/dev/null | awk '{print $4}' | sed 's/.*://' | sort -u)"
pick_port() {
  local p
  while :; do
    p=$((20000 + RANDOM % 10000))
    if ! grep -qx "$p" <<<"$TAKEN"; then TAKEN="$TAKEN"$'\n'"$p"; echo "$p"; return; fi
  done
}
ETCD_PORT="${ETCD_PORT:-$(pick_port)}"
ETCD_PEER_PORT="${ETCD_PEER_PORT:-$(pick_port)}"
APISERVER_PORT="${APISERVER_PORT:-$(pick_port)}"
KCM_PORT="${KCM_PORT:-$(pick_port)}"
SCHEDULER_PORT="${SCHEDULER_PORT:-$(pick_port)}"
SERVER="https://127.0.0.1:$APISERVER_PORT"

# --- certificates and keys (EC P-256: generated in milliseconds) ----------------------------------------
PKI="$RUN_DIR/pki"
key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$PKI/$1.key" 2>/dev/null; }
# cert NAME SUBJECT EXTENDED_KEY_USAGE [SUBJECT_ALT_NAMES]
cert() {
  key "$1"
  local ext="basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=$3"
  [ -n "${4:-}" ] && ext="$ext
subjectAltName=$4"
  openssl req -new -key "$PKI/$1.key" -subj "$2" 2>/dev/null |
    openssl x509 -req -CA "$PKI/ca.crt" -CAkey "$PKI/ca.key" -CAcreateserial -days 30 \
      -extfile <(echo "$ext") -out "$PKI/$1.crt" 2>/dev/null
}
key ca
openssl req -x509 -new -key "$PKI/ca.key" -subj "/CN=svcbgp-test-ca" -days 30 -out "$PKI/ca.crt" \
  -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
cert apiserver "/CN=kube-apiserver" serverAuth \
  "IP:127.0.0.1,IP:10.49.0.1,IP:fd00:49::1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local"
cert admin "/O=system:masters/CN=svcbgp-admin" clientAuth
cert kcm "/CN=system:kube-controller-manager" clientAuth
cert scheduler "/CN=system:kube-scheduler" clientAuth
# kube-proxy's classic identity: bootstrap RBAC binds the user system:kube-proxy to ClusterRole system:node-proxier
# (the lab runs a real kube-proxy per node with it: test/lab/data-path.ts)
cert kube-proxy "/CN=system:kube-proxy" clientAuth
key sa
openssl pkey -in "$PKI/sa.key" -pubout -out "$PKI/sa.pub" 2>/dev/null

# kubeconfig NAME USER  (certificates embedded: the file alone is enough, it can be copied anywhere)
kubeconfig() {
  cat >"$RUN_DIR/$1.kubeconfig" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: svcbgp-test
  cluster:
    server: $SERVER
    certificate-authority-data: $(base64 -w0 "$PKI/ca.crt")
users:
- name: $2
  user:
    client-certificate-data: $(base64 -w0 "$PKI/$2.crt")
    client-key-data: $(base64 -w0 "$PKI/$2.key")
contexts:
- name: svcbgp-test
  context: {cluster: svcbgp-test, user: $2}
current-context: svcbgp-test
EOF
  chmod 600 "$RUN_DIR/$1.kubeconfig"
}
kubeconfig admin admin
kubeconfig kcm kcm
kubeconfig scheduler scheduler
kubeconfig kube-proxy kube-proxy
printf '#!/bin/sh\nexec "%s/kubectl" --kubeconfig "%s/admin.kubeconfig" "$@"\n' "$BIN" "$RUN_DIR" >"$RUN_DIR/kubectl"
chmod +x "$RUN_DIR/kubectl"
log "run dir $RUN_DIR, certificates ready ($(elapsed))"

start() {  # start NAME BINARY ARGS...
  local name="$1"; shift
  "$@" >"$RUN_DIR/logs/$name.log" 2>&1 &
  PIDS+=($!); NAMES+=("$name")
  log "started $name (pid $!)"
}
# check that every component still runs; print the tail of the log of one that died
check_alive() {
  local i
  for i in "${!PIDS[@]}"; do
    [ "${NAMES[$i]}" = kube-apiserver ] && [ "$APISERVER_DOWN" = 1 ] && continue
    if ! kill -0 "${PIDS[$i]}" 2>/dev/null; then
      log "${NAMES[$i]} exited; last lines of its log:"
      tail -n 30 "$RUN_DIR/logs/${NAMES[$i]}.log" >&2 || true
      return 1
    fi
  done
}
wait_url() {  # wait_url WHAT TIMEOUT_S CURL_ARGS...
  local what="$1" timeout="$2"; shift 2
  local deadline=$(($(date +%s) + timeout))
  until curl -fsS -o /dev/null --max-time 2 "$@" 2>/dev/null; do
    check_alive || exit 1
    [ "$(date +%s)" -lt "$deadline" ] || { log "$what not ready after ${timeout}s"; exit 1; }
    sleep 0.2
  done
  log "$what ready ($(elapsed))"
}

start etcd "$BIN/etcd" --name svcbgp-test --data-dir "$RUN_DIR/etcd" \
  --listen-client-urls "http://127.0.0.1:$ETCD_PORT" --advertise-client-urls "http://127.0.0.1:$ETCD_PORT" \
  --listen-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" --initial-advertise-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" \
  --initial-cluster "svcbgp-test=http://127.0.0.1:$ETCD_PEER_PORT" \
  --unsafe-no-fsync --log-level warn
wait_url etcd 60 "http://127.0.0.1:$ETCD_PORT/health"

APISERVER_CMD=("$BIN/kube-apiserver"
  --etcd-servers "http://127.0.0.1:$ETCD_PORT" \
  --bind-address 127.0.0.1 --advertise-address 127.0.0.1 --endpoint-reconciler-type none \
  --secure-port "$APISERVER_PORT" \
  --tls-cert-file "$PKI/apiserver.crt" --tls-private-key-file "$PKI/apiserver.key" \
  --client-ca-file "$PKI/ca.crt" \
  --service-cluster-ip-range "$SERVICE_CIDR" \
  --service-account-issuer https://kubernetes.default.svc.cluster.local \
  --service-account-key-file "$PKI/sa.pub" --service-account-signing-key-file "$PKI/sa.key" \
  --authorization-mode Node,RBAC \
  --disable-admission-plugins DenyServiceExternalIPs \
  --allow-privileged=true --profiling=false)
start kube-apiserver "${APISERVER_CMD[@]}"
echo "${PIDS[-1]}" >"$RUN_DIR/kube-apiserver.pid"
wait_url kube-apiserver 120 --cacert "$PKI/ca.crt" --cert "$PKI/admin.crt" --key "$PKI/admin.key" "$SERVER/readyz"

start kube-controller-manager "$BIN/kube-controller-manager" \
  --kubeconfig "$RUN_DIR/kcm.kubeconfig" \
  --authentication-kubeconfig "$RUN_DIR/kcm.kubeconfig" --authorization-kubeconfig "$RUN_DIR/kcm.kubeconfig" \
  --bind-address 127.0.0.1 --secure-port "$KCM_PORT" --leader-elect=false \
  --use-service-account-credentials=true \
  --service-account-private-key-file "$PKI/sa.key" --root-ca-file "$PKI/ca.crt" \
  --cluster-signing-cert-file "$PKI/ca.crt" --cluster-signing-key-file "$PKI/ca.key" \
  --allocate-node-cidrs=true --cluster-cidr "$POD_CIDR" \
  --node-cidr-mask-size-ipv4 "$NODE_CIDR_MASK_V4" --node-cidr-mask-size-ipv6 "$NODE_CIDR_MASK_V6" \
  --service-cluster-ip-range "$SERVICE_CIDR" --profiling=false
start kube-scheduler "$BIN/kube-scheduler" \
  --kubeconfig "$RUN_DIR/scheduler.kubeconfig" \
  --authentication-kubeconfig "$RUN_DIR/scheduler.kubeconfig" --authorization-kubeconfig "$RUN_DIR/scheduler.kubeconfig" \
  --bind-address 127.0.0.1 --secure-port "$SCHEDULER_PORT" --leader-elect=false --profiling=false
wait_url kube-controller-manager 90 -k "https://127.0.0.1:$KCM_PORT/healthz"
wait_url kube-scheduler 90 -k "https://127.0.0.1:$SCHEDULER_PORT/healthz"

# Pods can only be created once the ServiceAccount controller made the namespace's "default" account.
deadline=$(($(date +%s) + 60))
until "$RUN_DIR/kubectl" get serviceaccount default -n default >/dev/null 2>&1; do
  check_alive || exit 1
  [ "$(date +%s)" -lt "$deadline" ] || { log "ServiceAccount default/default not created after 60s"; exit 1; }
  sleep 0.2
done
log "control plane ready in $(elapsed): $SERVER"

rss() { awk '/^VmRSS/{printf "%d", $2/1024}' "/proc/$1/status" 2>/dev/null || echo 0; }
pids_json=""; rss_txt=""
for i in "${!PIDS[@]}"; do
  pids_json="$pids_json${pids_json:+,}\"${NAMES[$i]}\":${PIDS[$i]}"
  rss_txt="$rss_txt ${NAMES[$i]}=$(rss "${PIDS[$i]}")MiB"
done
log "memory (RSS):$rss_txt"
echo "KUBECONFIG=$RUN_DIR/admin.kubeconfig"
echo "SVCBGP_K8S_READY {\"kubeconfig\":\"$RUN_DIR/admin.kubeconfig\",\"server\":\"$SERVER\",\"runDir\":\"$RUN_DIR\",\"binDir\":\"$BIN\",\"kubectlPath\":\"$BIN/kubectl\",\"ports\":{\"etcd\":$ETCD_PORT,\"etcdPeer\":$ETCD_PEER_PORT,\"apiserver\":$APISERVER_PORT,\"controllerManager\":$KCM_PORT,\"scheduler\":$SCHEDULER_PORT},\"pids\":{$pids_json}}"
if [ -t 2 ] && [ -z "$PARENT_PID" ]; then
  log "running; in another shell:  export KUBECONFIG=$RUN_DIR/admin.kubeconfig  (kubectl: $BIN/kubectl or $RUN_DIR/kubectl). Ctrl-C stops and removes everything."
fi

# An API-server outage on request (the chaos suite): SIGUSR1 stops kube-apiserver as its service manager would
# (SIGTERM, SIGKILL after 5 s: its graceful shutdown waits for open watches longer than that; SIGCONT first, in case
# a test SIGSTOPped it), SIGUSR2 starts it again with the same
# flags (etcd keeps the cluster). The current pid is always in <run dir>/kube-apiserver.pid.
apiserver_index() { local i; for i in "${!NAMES[@]}"; do if [ "${NAMES[$i]}" = kube-apiserver ]; then echo "$i"; fi; done; }
stop_apiserver() {
  [ "$APISERVER_DOWN" = 1 ] && return
  APISERVER_DOWN=1
  local i p killer; i="$(apiserver_index)"; p="${PIDS[$i]}"
  kill -CONT "$p" 2>/dev/null || true
  kill -TERM "$p" 2>/dev/null || true
  ( sleep 5; kill -KILL "$p" 2>/dev/null ) & killer=$!
  wait "$p" 2>/dev/null || true
  kill "$killer" 2>/dev/null || true
  log "kube-apiserver stopped (SIGUSR1)"
  echo "stopped" >"$RUN_DIR/kube-apiserver.state"
}
start_apiserver() {
  [ "$APISERVER_DOWN" = 1 ] || return
  local i; i="$(apiserver_index)"
  "${APISERVER_CMD[@]}" >>"$RUN_DIR/logs/kube-apiserver.log" 2>&1 &
  PIDS[$i]=$!
  echo "$!" >"$RUN_DIR/kube-apiserver.pid"
  APISERVER_DOWN=0
  log "kube-apiserver started again (SIGUSR2, pid $!)"
  echo "started" >"$RUN_DIR/kube-apiserver.state"
}
trap stop_apiserver USR1
trap start_apiserver USR2

while :; do
  sleep 1 & wait $! || true
  check_alive || exit 1
  if [ -n "$PARENT_PID" ] && ! kill -0 "$PARENT_PID" 2>/dev/null; then log "parent $PARENT_PID is gone"; exit 0; fi
done
