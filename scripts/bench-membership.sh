#!/usr/bin/env bash
# Writes against an envsync server (SQLite) on loopback, end to end, for one or more release
# binaries compared in one run: each binary serves and is the client, on a fresh server and
# workspace of its own (20 environments × 1,000 variables). Per binary, hyperfine times
#   - `members add` of a teammate's key (before each run, the teammate is removed),
#   - `members remove` of them (before each run, they are added again),
#   - `push` of one changed value.
# Each membership change re-encrypts every head, so both commands write 20 new versions.
# The membership log grows by two entries a run, alike for every binary.
# With BENCH_POSTGRES=postgres://USER@HOST, each round's server keeps its data in a fresh
# PostgreSQL database there instead (made with psql, dropped at the end). With
# BENCH_FOLDER=1, each round's remote is a folder instead of a server. With
# BENCH_LATENCY_MS=N, the client reaches the server through scripts/latency-proxy.py, which
# delays every byte by N ms each way (a round trip of 2N ms), as a network would.
# Usage: scripts/bench-membership.sh ENVSYNC_BINARY… (BENCH_RUNS, default 15, runs each)
set -euo pipefail
[[ $# -gt 0 ]] || { echo "usage: $0 ENVSYNC_BINARY…" >&2; exit 2; }
command -v hyperfine >/dev/null \
  || { echo "hyperfine is needed (apt-get install hyperfine)" >&2; exit 2; }
runs=${BENCH_RUNS:-15}
work=$(mktemp -d)
server_pid=""
proxy_pid=""
scripts=$(dirname "$(realpath "$0")")
databases=()
stop_server() {
  # The proxy dies of the signal (exit 143), which is no failure of the bench.
  [[ -n $proxy_pid ]] && kill "$proxy_pid" 2>/dev/null && { wait "$proxy_pid" 2>/dev/null || true; }
  [[ -n $server_pid ]] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
  server_pid="" proxy_pid=""
}
drop_databases() {
  for database in "${databases[@]}"; do
    psql "$BENCH_POSTGRES/postgres" -qc "DROP DATABASE IF EXISTS $database" >/dev/null 2>&1
  done
}
trap 'stop_server; drop_databases; rm -rf "$work"' EXIT
# Sets `store`, the server's storage for round $1: its data directory, and with
# BENCH_POSTGRES a fresh PostgreSQL database.
use_storage() {
  store=(--data-dir "$root/server")
  [[ -n ${BENCH_POSTGRES:-} ]] || return 0
  local database="envsync_bench_$$_$1"
  psql "$BENCH_POSTGRES/postgres" -qc "CREATE DATABASE $database" >/dev/null
  databases+=("$database")
  store+=(--database-url "$BENCH_POSTGRES/$database")
}
# Puts scripts/latency-proxy.py between the client and the server: sets `url` to it.
through_latency_proxy() {
  python3 "$scripts/latency-proxy.py" 0 "${url##*:}" "$BENCH_LATENCY_MS" >"$root/proxy.out" &
  proxy_pid=$!
  for _ in $(seq 1 100); do grep -q '^ready' "$root/proxy.out" && break; sleep 0.1; done
  url="http://127.0.0.1:$(sed -n 's/^ready //p' "$root/proxy.out")"
}
# Starts binary $1's server for round $2 and joins it as its owner: sets `url`.
start_server() {
  use_storage "$2"
  "$1" server --listen 127.0.0.1:0 "${store[@]}" 2>"$root/server.log" &
  server_pid=$!
  for _ in $(seq 1 100); do grep -q 'listening on' "$root/server.log" && break; sleep 0.1; done
  url=$(sed -n 's/.*listening on \([^ ]*\).*/\1/p' "$root/server.log")
  [[ -n ${BENCH_LATENCY_MS:-} ]] && through_latency_proxy
  "$1" join "$url" "$(sed -n 's/^owner setup code: //p' "$root/server.log")" >/dev/null 2>&1
}
# shellcheck source=bench-lib.sh
source "$scripts/bench-lib.sh"
export ENVSYNC_KEYCHAIN=off

# A binary named twice (rounds in turn, against drift) gets a fresh server each time.
round=0
for binary in "$@"; do
  bin=$(realpath "$binary")
  round=$((round + 1))
  root="$work/$round"
  mkdir -p "$root/owner" "$root/carol" "$root/ws"
  export HOME="$root/owner" XDG_CONFIG_HOME="$root/owner/.config"
  "$bin" keygen --name owner >/dev/null 2>&1
  if [[ -n ${BENCH_FOLDER:-} ]]; then
    url="$root/remote"
    mkdir -p "$url"
  else
    start_server "$bin" "$round"
  fi
  cd "$root/ws"
  carol=$(seed_twenty_environments "$bin" "$url" "$root")
  add="$bin members add $carol --name carol --yes"
  remove="$bin members remove carol --yes"
  # hyperfine -N runs a prepare command without a shell: these set the teammate's state.
  printf '#!/bin/sh\n%s >/dev/null 2>&1; exit 0\n' "$remove" > "$root/removed.sh"
  printf '#!/bin/sh\n%s >/dev/null 2>&1; exit 0\n' "$add" > "$root/added.sh"
  chmod +x "$root/removed.sh" "$root/added.sh"
  # The setup's writes go to disk now, not during the first timed runs.
  sync
  echo "binary: $bin"
  hyperfine -N -r "$runs" -w 2 --prepare "$root/removed.sh" -n "members add" "$add" \
    | grep -E "members add|Time|Range"
  hyperfine -N -r "$runs" -w 2 --prepare "$root/added.sh" -n "members remove" "$remove" \
    | grep -E "members remove|Time|Range"
  hyperfine -r $((runs * 2)) -w 3 -n "push" \
    --prepare "sed -i \"s/^SECRET_KEY_5=.*/SECRET_KEY_5=\$(date +%N)/\" .env.e00" \
    "$bin push --env e00" | grep -E "push|Time|Range"
  cd "$work"
  stop_server
done
