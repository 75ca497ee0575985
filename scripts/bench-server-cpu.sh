#!/usr/bin/env bash
# The server's CPU time per version of a membership change: `members add` then
# `members remove` of a teammate, ROUNDS times, on a project of 20 environments × 1,000
# variables (each change re-encrypts all 20 heads), against SERVER_BINARY (SQLite, loopback)
# driven by CLIENT_BINARY. CPU time is the server process's own (user + system, all of its
# threads, from /proc/PID/stat), so it holds on a machine whose disk or load drifts better
# than wall time does; it includes the change's other requests (log, heads, the entry).
# Usage: scripts/bench-server-cpu.sh SERVER_BINARY CLIENT_BINARY [ROUNDS, default 10]
set -euo pipefail
[[ $# -ge 2 ]] || { echo "usage: $0 SERVER_BINARY CLIENT_BINARY [ROUNDS]" >&2; exit 2; }
server_bin=$(realpath "$1")
client=$(realpath "$2")
rounds=${3:-10}
# shellcheck source=bench-lib.sh
source "$(dirname "$(realpath "$0")")/bench-lib.sh"
work=$(mktemp -d)
server_pid=""
trap '[[ -n $server_pid ]] && kill "$server_pid" 2>/dev/null; rm -rf "$work"' EXIT
export ENVSYNC_KEYCHAIN=off HOME="$work/owner" XDG_CONFIG_HOME="$work/owner/.config"
mkdir -p "$work/owner" "$work/carol" "$work/ws"
"$client" keygen --name owner >/dev/null 2>&1
"$server_bin" server --listen 127.0.0.1:0 --data-dir "$work/server" 2>"$work/server.log" &
server_pid=$!
for _ in $(seq 1 100); do grep -q 'listening on' "$work/server.log" && break; sleep 0.1; done
url=$(sed -n 's/.*listening on \([^ ]*\).*/\1/p' "$work/server.log")
"$client" join "$url" "$(sed -n 's/^owner setup code: //p' "$work/server.log")" >/dev/null 2>&1
cd "$work/ws"
carol=$(seed_twenty_environments "$client" "$url" "$work")
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$server_pid/stat"; }
before=$(cpu_ticks)
for ((round = 0; round < rounds; round++)); do
  "$client" members add "$carol" --name carol --yes >/dev/null 2>&1
  "$client" members remove carol --yes >/dev/null 2>&1
done
ticks=$(( $(cpu_ticks) - before ))
hz=$(getconf CLK_TCK)
versions=$(( rounds * 2 * 20 ))
awk -v t="$ticks" -v hz="$hz" -v v="$versions" 'BEGIN {
  printf "server CPU: %.0f ms for %d versions, %.2f ms per version\n", t * 1000 / hz, v,
    t * 1000 / hz / v }'
