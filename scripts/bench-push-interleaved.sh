#!/usr/bin/env bash
# `envsync push` of a 1,000-variable environment to a folder remote, by several binaries
# **in turn, run by run**, on one workspace (one value changed before each push), so a
# disk whose speed drifts falls on every binary alike. Prints each binary's median, minimum
# and maximum wall time.
# Usage: scripts/bench-push-interleaved.sh BINARY… (BENCH_RUNS rounds, default 30; the
# first binary also sets the workspace up)
set -euo pipefail
[[ $# -ge 1 ]] || { echo "usage: $0 BINARY…" >&2; exit 2; }
rounds=${BENCH_RUNS:-30}
# shellcheck source=bench-lib.sh
source "$(dirname "$(realpath "$0")")/bench-lib.sh"
bins=()
for binary in "$@"; do bins+=("$(realpath "$binary")"); done
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export HOME="$work/home" XDG_CONFIG_HOME="$work/home/.config" ENVSYNC_KEYCHAIN=off
mkdir -p "$HOME" "$work/remote" "$work/ws"
cd "$work/ws"
printf 'remote = "../remote"\n\n[projects.app.environments]\ndevelopment = ".env"\n' \
  > envsync.toml
variables 1000 > .env
"${bins[0]}" keygen --name bench >/dev/null 2>&1
"${bins[0]}" push >/dev/null 2>&1
pushed=0
for ((round = 0; round < rounds; round++)); do
  for bin in "${bins[@]}"; do
    pushed=$((pushed + 1))
    sed -i "1s/.*/SECRET_KEY_0=round-$pushed/" .env
    start=$(date +%s%N)
    "$bin" push >/dev/null 2>&1
    echo "$bin $(( ($(date +%s%N) - start) / 1000 ))" >> "$work/times"
  done
done
print_medians "$work/times" "${bins[@]}"
