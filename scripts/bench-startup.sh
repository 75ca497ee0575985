#!/usr/bin/env bash
# Start-up cost of the release `envsync` beside the floor: minimal Rust programs that only
# start and exec a command (scripts/floor/exec.rs; exec_env.rs also reads the linked file and
# passes its variables) or print one line (scripts/floor/print.rs),
# built with the same compiler and optimisation level.
#
# Measures that hold on a busy machine, by default:
#   instructions  valgrind --tool=callgrind, user-space instructions (callgrind reports
#                 nothing for a program that execs, so the `run` rows show "exec")
#   CPU ms        task-clock (perf stat, a software counter: CPU time, not wall time), mean
#                 of 20 runs; includes the exec'd /bin/true, the same in every exec row
#   faults        page faults (perf stat)
#   syscalls      system calls made (strace -f -c)
# With BENCH_WALL=1, also wall-clock medians, every row once per round in rotating order
# (scripts/floor/interleave.rs: drift during the run falls on every row alike; take them on
# a quiet machine all the same, and the load average is printed with them).
#
# Rows: `envsync --version`; `envsync run -- /bin/true` with 1,000 variables from the linked
# file and from a folder remote's head (verify + decrypt); `envsync status` on 20
# environments; the same two remote rows against an envsync server (SQLite) on loopback.
# Usage: scripts/bench-startup.sh [ENVSYNC_BINARY…] (several: compared in one run). The
# workspaces and the server are the first binary's: put first the one whose server every
# client should meet (a client may ask a newer server for more in one request).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
# shellcheck source=bench-lib.sh
source scripts/bench-lib.sh
envsync_bins=()
for binary in "$@"; do envsync_bins+=("$(realpath "$binary")"); done
if [[ ${#envsync_bins[@]} -eq 0 ]]; then
  cargo build --release --quiet --bin envsync
  envsync_bins=("$root/target/release/envsync")
fi
envsync_bin=${envsync_bins[0]}
floor="$root/target/floor"
mkdir -p "$floor"
for program in exec exec_env print interleave; do
  rustc --edition 2024 -C opt-level=3 -o "$floor/$program" "scripts/floor/$program.rs"
done

# The workspaces: on a folder remote, and the same environments on a server on loopback.
seed_startup_workspaces "$envsync_bin" bench
on_server="-C $work/ws-server"

rows=(
  "floor: print one line|$floor/print"
  "floor: exec /bin/true|$floor/exec /bin/true"
  "floor: read the file, exec /bin/true with its 1,000 vars|$floor/exec_env .env.1000 /bin/true"
)
# Each binary's rows, named by the binary's file name when several are compared in one run.
for bin in "${envsync_bins[@]}"; do
  tag=""
  [[ ${#envsync_bins[@]} -gt 1 ]] && tag=" [$(basename "$bin")]"
  rows+=(
    "envsync --version$tag|$bin --version"
    "envsync status (20 environments, folder remote)$tag|$bin status"
    "envsync run -- /bin/true (1,000 vars, linked file)$tag|$bin run --env vars1000 -- /bin/true"
    "envsync run --remote -- /bin/true (1,000 vars, folder remote)$tag|$bin run --remote \
--env vars1000 -- /bin/true"
    "envsync status (20 environments, server on loopback)$tag|$bin $on_server status"
    "envsync run --remote -- /bin/true (1,000 vars, server on loopback)$tag|$bin $on_server \
run --remote --env vars1000 -- /bin/true"
  )
done

instructions() {
  valgrind --tool=callgrind --callgrind-out-file=/dev/null "$@" 2>&1 >/dev/null \
    | sed -n 's/.*Collected : \([0-9]*\).*/\1/p' | tail -1 | grep . || echo exec
}
# "CPU ms | page faults" from perf's software counters, mean of 20 runs.
cpu_and_faults() {
  perf stat -r 20 -x, -e task-clock,page-faults "$@" 2>&1 >/dev/null \
    | awk -F, '$3 == "task-clock" { ms = $1 } $3 == "page-faults" { pf = $1 }
               END { printf "%.2f | %d", ms, pf }'
}
syscalls() {
  strace -f -c -o "$work/strace.txt" "$@" >/dev/null 2>&1
  awk '$NF == "total" { print $(NF-2) }' "$work/strace.txt"
}

for bin in "${envsync_bins[@]}"; do echo "binary: $bin ($(stat -c %s "$bin") bytes)"; done
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "| command | instructions | CPU ms | page faults | system calls |"
echo "|---|---|---|---|---|"
for row in "${rows[@]}"; do
  name=${row%%|*}
  read -r -a command <<< "${row#*|}"
  "${command[@]}" >/dev/null # warm the page cache
  printf '| %s | %s | %s | %s |\n' "$name" "$(instructions "${command[@]}")" \
    "$(cpu_and_faults "${command[@]}")" "$(syscalls "${command[@]}")"
done

if [[ ${BENCH_WALL:-0} == 1 ]]; then
  echo
  echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
  for row in "${rows[@]}"; do printf '%s\t%s\n' "${row%%|*}" "${row#*|}"; done \
    | "$floor/interleave" "${BENCH_RUNS:-60}"
  echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
fi
