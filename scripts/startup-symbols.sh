#!/usr/bin/env bash
# Writes crates/envsync/startup-symbols.txt: the functions of the `envsync` binary that its
# everyday commands run, which the release link places side by side (build.rs,
# `--symbol-ordering-file`). A start then faults in a few windows of code instead of pages
# spread over 19 MB of it (BENCHMARKS.md, issue 19, seventeenth pass).
#
# The commands are the start-up bench's: `--version`; `status` on 20 environments; `run`
# with 1,000 variables from the linked file and from a folder remote's and a server's head;
# and `push`. Each runs once under callgrind, which names every function that ran (`run`
# is given a command that does not exist: callgrind keeps no record of a process that
# execs, and what runs before the exec is the same). Functions that more commands share
# come first.
#
# The names carry hashes of the crates' build settings, so regenerate after a dependency
# or toolchain update (a name the link does not find is skipped, silently).
# Usage: scripts/startup-symbols.sh [RELEASE_BINARY] (default: builds target/release/envsync)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
# shellcheck source=bench-lib.sh
source scripts/bench-lib.sh
command -v valgrind >/dev/null \
  || { echo "valgrind is needed (apt-get install valgrind)" >&2; exit 2; }
if [[ $# -gt 0 ]]; then
  bin=$(realpath "$1")
else
  cargo build --release --quiet --bin envsync
  bin="$root/target/release/envsync"
fi

seed_startup_workspaces "$bin" order

missing=/nonexistent-envsync-startup-symbols
commands=(
  "--version"
  "status"
  "run --env vars1000 -- $missing"
  "run --remote --env vars1000 -- $missing"
  "-C $work/ws-server status"
  "-C $work/ws-server run --remote --env vars1000 -- $missing"
)
n=0
# One command under callgrind, its record in $work/callgrind.N.
profile() {
  n=$((n + 1))
  valgrind --tool=callgrind --demangle=no --compress-strings=no --compress-pos=no \
    --callgrind-out-file="$work/callgrind.$n" "$bin" "$@" >/dev/null 2>&1
}
for command in "${commands[@]}"; do
  read -r -a args <<< "$command"
  # The `run`s fail by design: their command does not exist.
  profile "${args[@]}" || true
done
# A push of one changed value, last: it changes the workspace.
sed -i 's/^SECRET_KEY_7=.*/SECRET_KEY_7=changed/' .env.1000
profile push --env vars1000

# Each command's functions in the binary itself (callgrind's `ob=` is the object, `fn=` a
# function with costs in it), counted across commands, most shared first.
for ((i = 1; i <= n; i++)); do
  awk -v bin="$bin" '/^ob=/ { ob = substr($0, 4) }
    /^fn=/ && ob == bin { print substr($0, 4) }' "$work/callgrind.$i" | sort -u
done | grep -v -e '^0x' -e '^(below main)' | sort | uniq -c | sort -k1,1nr -k2,2 \
  | awk '{ print $2 }' > "$root/crates/envsync/startup-symbols.txt"
echo "wrote $(wc -l < "$root/crates/envsync/startup-symbols.txt") functions to" \
  "crates/envsync/startup-symbols.txt"
