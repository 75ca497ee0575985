#!/usr/bin/env bash
# Bounded coverage-guided fuzzing of every target in fuzz/ (libFuzzer, nightly toolchain).
#
#   scripts/fuzz.sh                 # every target, FUZZ_SECONDS (default 300) shared evenly
#   FUZZ_SECONDS=60 scripts/fuzz.sh dotenv merge
#
# Installs cargo-fuzz when missing. Each target's corpus grows in fuzz/corpus/TARGET (not
# committed) from the committed seeds in fuzz/seeds/TARGET. A crash or failed check stops
# the run with the input under fuzz/artifacts/TARGET/: fix it, then commit the input to
# fuzz/regressions/TARGET/, which `cargo test -p envsync-fuzz` replays on stable.
# Prints, per target, the corpus size and executions per second (for BENCHMARKS.md).
set -euo pipefail
cd "$(dirname "$0")/.."

total="${FUZZ_SECONDS:-300}"
if ! cargo +nightly fuzz --version >/dev/null 2>&1; then
    cargo install cargo-fuzz --locked
fi
export CARGO_TARGET_DIR="${FUZZ_TARGET_DIR:-$PWD/fuzz/target}"
cd fuzz
mapfile -t targets < <(if [ $# -gt 0 ]; then printf '%s\n' "$@"; else cargo +nightly fuzz list; fi)
per=$(( total / ${#targets[@]} ))
(( per >= 1 )) || per=1
cargo +nightly fuzz build
for target in "${targets[@]}"; do
    mkdir -p "corpus/$target"
    log="$(mktemp)"
    if ! cargo +nightly fuzz run "$target" "corpus/$target" "seeds/$target" -- \
        -max_total_time="$per" -print_final_stats=1 >"$log" 2>&1; then
        tail -n 40 "$log"
        echo "fuzz: $target failed; the input is under fuzz/artifacts/$target/" >&2
        exit 1
    fi
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
    secs=$(sed -n 's/^Done [0-9]* runs in \([0-9]*\) second.*/\1/p' "$log" | tail -n 1)
    secs=$(( ${secs:-$per} > 0 ? ${secs:-$per} : 1 ))
    files=$(find "corpus/$target" -type f | wc -l)
    echo "fuzz: $target ok: ${runs:-?} runs in $secs s" \
        "($(( ${runs:-0} / secs )) exec/s), corpus $files files"
    rm -f "$log"
done
