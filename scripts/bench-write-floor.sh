#!/usr/bin/env bash
# envsync's writes to a folder remote against their floor (issue 19, item 3): `write_floor`
# (crates/envsync-crypto/examples/write_floor.rs) does only what a crash-safe, signed,
# encrypted write must (verify the head, encrypt, sign, write the ciphertext and record to
# the remote and the new base here, each durably), on its own copy of the same remote.
#   - `push` of a 1,000-variable environment (one value changed before each pair) against
#     `write_floor push`;
#   - `members add` and `members remove` of a teammate on 20 environments × 1,000 variables
#     (each re-encrypts every head) against `write_floor reencrypt`.
# They run in turn, round by round, which goes first alternating, so a disk whose speed
# drifts falls on all alike.
# Usage: scripts/bench-write-floor.sh ENVSYNC_BINARY WRITE_FLOOR_BINARY (BENCH_RUNS rounds
# of push, default 60, and BENCH_MEMBER_RUNS of membership, default 15). Build the floor:
#   cargo build --release -p envsync-crypto --example write_floor
set -euo pipefail
[[ $# -eq 2 ]] || { echo "usage: $0 ENVSYNC_BINARY WRITE_FLOOR_BINARY" >&2; exit 2; }
# shellcheck source=bench-lib.sh
source "$(dirname "$(realpath "$0")")/bench-lib.sh"
bin=$(realpath "$1")
floor=$(realpath "$2")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export HOME="$work/home" XDG_CONFIG_HOME="$work/home/.config" ENVSYNC_KEYCHAIN=off
identity="$XDG_CONFIG_HOME/envsync/identity.txt"
mkdir -p "$HOME"
"$bin" keygen --name bench >/dev/null 2>&1

# Runs "NAME COMMAND…" rows in turn, the first one first in even rounds and last in odd
# ones, appending "NAME MICROSECONDS" to $work/times. Usage: timed_round ROUND ROW…
timed_round() {
  local round=$1 row
  shift
  local rows=("$@")
  ((round % 2)) && rows=("${rows[@]:1}" "${rows[0]}")
  for row in "${rows[@]}"; do
    local name=${row%% *} start=${EPOCHREALTIME/./}
    # shellcheck disable=SC2086 # the row's words are the command
    ${row#* } >/dev/null 2>&1 || { echo "error: $name failed" >&2; exit 1; }
    echo "$name $(( ${EPOCHREALTIME/./} - start ))" >> "$work/times"
  done
}

mkdir -p "$work/push/remote" "$work/push/ws"
cd "$work/push/ws"
printf 'remote = "../remote"\n\n[projects.app.environments]\ndevelopment = ".env"\n' \
  > envsync.toml
variables 1000 > .env
"$bin" push >/dev/null 2>&1
cp -a ../remote/app/environments/development ../floor-remote
for ((round = 0; round < ${BENCH_RUNS:-60}; round++)); do
  sed -i "1s/.*/SECRET_KEY_0=round-$round/" .env
  timed_round "$round" "envsync-push $bin push" \
    "floor-push $floor push $identity .env ../floor-remote ../floor-local"
done
[[ $(ls ../remote/app/environments/development/versions | wc -l) \
  -eq $(ls ../floor-remote/versions | wc -l) ]] \
  || { echo "error: the floor and envsync made different numbers of versions" >&2; exit 1; }

mkdir -p "$work/members/remote" "$work/members/ws"
cd "$work/members/ws"
carol=$(seed_twenty_environments "$bin" ../remote "$work/members")
cp -a ../remote/app ../floor-project
for ((round = 0; round < ${BENCH_MEMBER_RUNS:-15}; round++)); do
  timed_round "$round" "envsync-members-add $bin members add $carol --name carol --yes" \
    "floor-reencrypt $floor reencrypt $identity ../floor-project ../floor-local $carol"
  timed_round "$round" "envsync-members-remove $bin members remove carol --yes" \
    "floor-reencrypt $floor reencrypt $identity ../floor-project ../floor-local $carol"
done
# Both made a version of every environment at every step.
[[ $(ls ../remote/app/environments/e00/versions | wc -l) \
  -eq $(ls ../floor-project/environments/e00/versions | wc -l) ]] \
  || { echo "error: the floor and envsync made different numbers of versions" >&2; exit 1; }
print_medians "$work/times" envsync-push floor-push envsync-members-add \
  envsync-members-remove floor-reencrypt
