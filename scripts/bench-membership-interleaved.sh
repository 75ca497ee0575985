#!/usr/bin/env bash
# `members add` of a teammate on a server (SQLite, loopback), 20 environments × 1,000
# variables, by several client binaries **in turn, run by run**, on one workspace and one
# server: on a disk whose speed drifts from round to round (ext4 without a journal slows
# down as files are freed, BENCHMARKS.md's eleventh and thirteenth passes), interleaving is
# what makes clients comparable. Before each run the teammate is removed again. Prints each
# client's median, minimum and maximum wall time.
# With BENCH_LATENCY_MS=N, the clients reach the server through scripts/latency-proxy.py
# (N ms each way).
# Usage: scripts/bench-membership-interleaved.sh SERVER_BINARY CLIENT_BINARY…
# (BENCH_RUNS rounds, default 12; the server binary also sets the workspace up)
set -euo pipefail
[[ $# -ge 2 ]] || { echo "usage: $0 SERVER_BINARY CLIENT_BINARY…" >&2; exit 2; }
rounds=${BENCH_RUNS:-12}
server_bin=$(realpath "$1")
shift
work=$(mktemp -d)
scripts=$(dirname "$(realpath "$0")")
# shellcheck source=bench-lib.sh
source "$scripts/bench-lib.sh"
pids=()
trap 'for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; rm -rf "$work"' EXIT
export ENVSYNC_KEYCHAIN=off HOME="$work/owner" XDG_CONFIG_HOME="$work/owner/.config"
mkdir -p "$work/owner" "$work/carol" "$work/ws"
"$server_bin" keygen --name owner >/dev/null 2>&1
"$server_bin" server --listen 127.0.0.1:0 --data-dir "$work/server" 2>"$work/server.log" &
pids+=($!)
for _ in $(seq 1 100); do grep -q 'listening on' "$work/server.log" && break; sleep 0.1; done
url=$(sed -n 's/.*listening on \([^ ]*\).*/\1/p' "$work/server.log")
if [[ -n ${BENCH_LATENCY_MS:-} ]]; then
  python3 "$scripts/latency-proxy.py" 0 "${url##*:}" "$BENCH_LATENCY_MS" >"$work/proxy.out" &
  pids+=($!)
  for _ in $(seq 1 100); do grep -q '^ready' "$work/proxy.out" && break; sleep 0.1; done
  url="http://127.0.0.1:$(sed -n 's/^ready //p' "$work/proxy.out")"
fi
"$server_bin" join "$url" "$(sed -n 's/^owner setup code: //p' "$work/server.log")" \
  >/dev/null 2>&1
cd "$work/ws"
carol=$(seed_twenty_environments "$server_bin" "$url" "$work")
sync
for ((round = 0; round < rounds; round++)); do
  for client in "$@"; do
    "$client" members remove carol --yes >/dev/null 2>&1 || true
    start=$(date +%s%N)
    "$client" members add "$carol" --name carol --yes >/dev/null 2>&1
    echo "$client $(( ($(date +%s%N) - start) / 1000 ))" >> "$work/times"
  done
done
print_medians "$work/times" "$@"
