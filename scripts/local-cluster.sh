#!/usr/bin/env bash
# A ring cluster on this machine: a seed (role coordinator) and 3 device nodes on 127.0.0.1, a job on them, then
# every node stopped with SIGTERM (they leave the cluster gracefully and exit 0).
#
#   scripts/local-cluster.sh [RUN OPTIONS...]          e.g. scripts/local-cluster.sh --seq 4096 --causal
#   PORT=4053 DEVICES=3 scripts/local-cluster.sh        seed port and number of device nodes
#   TLS_CERT=node.pfx TLS_CA=ca.crt RINGACTORS_TLS_PASSWORD=... scripts/local-cluster.sh
#                                                      the same over TLS (docs/security.md); TLS_TRUST=HEX pins a
#                                                      certificate instead of (or besides) a CA
#
# Node logs go to a temporary directory, printed at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

PORT=${PORT:-4053}
DEVICES=${DEVICES:-3}
UP_TIMEOUT=${UP_TIMEOUT:-60}
DLL=src/Host/bin/Release/net10.0/ringactors.dll
LOGS=$(mktemp -d -t ring-cluster-XXXXXX)

tls=()
protocol=akka.tcp
if [[ -n "${TLS_CERT:-}" ]]; then
  # One certificate for every node here: it must name both roles (URI:urn:ringactors:role:device and …:coordinator).
  # The password travels in RINGACTORS_TLS_PASSWORD (inherited by every node), never on a command line (ps shows those).
  tls=(--tls-cert "$TLS_CERT")
  [[ -n "${TLS_CA:-}" ]] && tls+=(--tls-ca "$TLS_CA")
  [[ -n "${TLS_TRUST:-}" ]] && tls+=(--tls-trust "$TLS_TRUST")
  protocol=akka.ssl.tcp
fi
seed="$protocol://ring@127.0.0.1:$PORT"

dotnet build src/Host -c Release -v quiet -nologo >/dev/null

pids=()
names=()
stop_all() {
  local i
  for i in "${!pids[@]}"; do kill -TERM "${pids[$i]}" 2>/dev/null || true; done
  for i in "${!pids[@]}"; do
    local waited=0
    while kill -0 "${pids[$i]}" 2>/dev/null && (( waited < 300 )); do sleep 0.1; waited=$((waited + 1)); done
    if kill -0 "${pids[$i]}" 2>/dev/null; then
      echo "${names[$i]} did not leave within 30 s; killing it" >&2
      kill -KILL "${pids[$i]}" 2>/dev/null || true
    fi
    wait "${pids[$i]}" 2>/dev/null && echo "${names[$i]} left (exit 0)" || echo "${names[$i]} exited with $?"
  done
  pids=()
  echo "node logs: $LOGS"
}
trap stop_all EXIT

start_node() {
  local name=$1
  shift
  dotnet "$DLL" node "$@" "${tls[@]}" >"$LOGS/$name.log" 2>&1 &
  pids+=($!)
  names+=("$name")
}

wait_up() {
  local name=$1 pid=$2 waited=0
  until grep -q " is Up, role " "$LOGS/$name.log" 2>/dev/null; do
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "$name exited before it was Up:" >&2
      cat "$LOGS/$name.log" >&2
      exit 1
    fi
    if (( waited >= UP_TIMEOUT * 10 )); then
      echo "$name not Up after $UP_TIMEOUT s" >&2
      exit 1
    fi
    sleep 0.1
    waited=$((waited + 1))
  done
  grep " is Up, role " "$LOGS/$name.log"
}

start_node seed --role coordinator --port "$PORT" --seed "$seed"
for i in $(seq 1 "$DEVICES"); do
  start_node "device-$i" --role device --seed "$seed"
done
for i in "${!pids[@]}"; do
  wait_up "${names[$i]}" "${pids[$i]}"
done

dotnet "$DLL" run --cluster --seed "$seed" --devices "$DEVICES" --device-nodes "$DEVICES" "${tls[@]}" "$@"
