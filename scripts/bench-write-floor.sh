#!/usr/bin/env bash
# envsync's writes to a folder remote against their floor (issue 19, item 3): `write_floor`
# (crates/envsync-client/examples/write_floor.rs) does only what a crash-safe, signed,
# encrypted write must (verify the head, encrypt, sign, write the ciphertext and record to
# the remote and the new base here, each durably), on its own copy of the same remote.
#   - `push` of a 1,000-variable environment (one value changed before each pair) against
#     `write_floor push`;
#   - the same `push` to an `envsync server` (SQLite) on loopback against `write_floor put`
#     (its three round trips), each on an environment of its own in one project;
#   - `sync` that merges a teammate's new key into a local edit (1,000 variables) against
#     `write_floor sync`, the teammate's push made on both remotes beforehand, untimed;
#   - `members add` and `members remove` of a teammate on 20 environments × 1,000 variables
#     (each re-encrypts every head) against `write_floor reencrypt`.
# They run in turn, round by round, which goes first alternating, so a disk whose speed
# drifts falls on all alike.
# Usage: scripts/bench-write-floor.sh ENVSYNC_BINARY WRITE_FLOOR_BINARY (BENCH_RUNS rounds
# of push and of sync, default 60, and BENCH_MEMBER_RUNS of membership, default 15).
# Build the floor with
#   cargo build --release -p envsync-client --example write_floor
set -euo pipefail
[[ $# -eq 2 ]] || { echo "usage: $0 ENVSYNC_BINARY WRITE_FLOOR_BINARY" >&2; exit 2; }
# shellcheck source=bench-lib.sh
source "$(dirname "$(realpath "$0")")/bench-lib.sh"
bin=$(realpath "$1")
floor=$(realpath "$2")
work=$(mktemp -d)
server_pid=""
trap '[[ -n $server_pid ]] && kill "$server_pid" 2>/dev/null; rm -rf "$work"' EXIT
export HOME="$work/home" XDG_CONFIG_HOME="$work/home/.config" ENVSYNC_KEYCHAIN=off
identity="$XDG_CONFIG_HOME/envsync/identity.txt"
mkdir -p "$HOME"
"$bin" keygen --name bench >/dev/null 2>&1

# Starts `envsync server` under $1 (bench-lib.sh's start_server), joined as its owner. Sets
# server_pid and url, and exports the owner's token for the floor as FLOOR_TOKEN.
serve() {
  start_server "$bin" "$1"
  url=$server_url
  FLOOR_TOKEN=$(awk -v table="[\"$url\"]" '$0 == table { mine = 1; next } /^\[/ { mine = 0 }
    mine && sub(/^token = "/, "") { sub(/"$/, ""); print }' \
    "$XDG_CONFIG_HOME/envsync/credentials.toml")
  export FLOOR_TOKEN
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

mkdir -p "$work/served/ws"
cd "$work/served/ws"
serve "$work/served"
{ printf 'remote = "%s"\n\n[projects.app.environments]\n' "$url"
  printf 'development = ".env"\nfloor = ".env.floor"\n'; } > envsync.toml
variables 1000 | tee .env > .env.floor
"$bin" push >/dev/null 2>&1
"$bin" push --env floor >/dev/null 2>&1
for ((round = 0; round < ${BENCH_RUNS:-60}; round++)); do
  sed -i "1s/.*/SECRET_KEY_0=round-$round/" .env
  timed_round "$round" "envsync-push-server $bin push" \
    "floor-put $floor put $identity .env ${url#http://} app floor ../floor-local"
done
# envsync takes the floor's versions as its own: they verify, and hold the last round's file.
"$bin" pull --env floor >/dev/null 2>&1 && cmp -s .env .env.floor \
  || { echo "error: envsync does not read back the floor's versions" >&2; exit 1; }
kill "$server_pid"
server_pid=""

# Bob, a writer, appends a key and syncs; Alice appends another and syncs, merging his.
# The floor gets Bob's file as his push, and Alice's edit in its own copy of her file.
mkdir -p "$work/sync/remote" "$work/sync/ws" "$work/sync/bob"
cd "$work/sync/ws"
cp ../../push/ws/envsync.toml .
variables 1000 > .env
"$bin" push >/dev/null 2>&1
bob=(env HOME="$work/sync/bob-home" XDG_CONFIG_HOME="$work/sync/bob-home/.config" "$bin")
"${bob[@]}" keygen --name bob >/dev/null 2>&1
"$bin" members add "$("${bob[@]}" whoami 2>/dev/null)" --name bob --role writer --yes \
  >/dev/null 2>&1
cp envsync.toml ../bob/
(cd ../bob && "${bob[@]}" pull >/dev/null 2>&1)
cp -a ../remote/app/environments/development ../floor-remote
cp .env ../floor.env
"$floor" push "$identity" ../floor.env ../floor-remote ../floor-local
for ((round = 0; round < ${BENCH_RUNS:-60}; round++)); do
  echo "BOB_$round=theirs" >> ../bob/.env
  (cd ../bob && "${bob[@]}" sync >/dev/null 2>&1)
  "$floor" push "$identity" ../bob/.env ../floor-remote ../floor-bob
  echo "ALICE_$round=mine" | tee -a .env >> ../floor.env
  timed_round "$round" "envsync-sync $bin sync" \
    "floor-sync $floor sync $identity ../floor.env ../floor-remote ../floor-local"
done
# The floor merged as envsync did, byte for byte.
cmp -s .env ../floor.env || { echo "error: the floor's merge differs from envsync's" >&2; exit 1; }

# Membership changes on 20 environments × 1,000 variables at remote URL (under $work/$2),
# rows named with SUFFIX, against the floor command FLOOR… run on a copy of the project made
# by COPY (a function given the workspace). Usage: membership URL NAME SUFFIX COPY FLOOR…
membership() {
  local url=$1 name=$2 suffix=$3 copy=$4 round
  shift 4
  mkdir -p "$work/$name/ws"
  cd "$work/$name/ws"
  carol=$(seed_twenty_environments "$bin" "$url" "$work/$name")
  "$copy"
  for ((round = 0; round < ${BENCH_MEMBER_RUNS:-15}; round++)); do
    timed_round "$round" "envsync-members-add$suffix $bin members add $carol --name carol --yes" \
      "floor-reencrypt$suffix $* $carol"
    timed_round "$round" "envsync-members-remove$suffix $bin members remove carol --yes" \
      "floor-reencrypt$suffix $* $carol"
  done
  # envsync takes the floor's project as its own: its versions and entries verify.
  mkdir -p ../check
  sed "s|^remote = .*|remote = \"$floor_remote\"|; s|projects.app|projects.$floor_project|" \
    envsync.toml > ../check/envsync.toml
  (cd ../check && "$bin" pull --env e00 >/dev/null 2>&1) && cmp -s ../check/.env.e00 .env.e00 \
    || { echo "error: envsync does not read back the floor's project" >&2; exit 1; }
}

# The floor's folder: a copy of the remote, under another name.
copy_folder() {
  floor_remote=../floor-remote floor_project=app
  mkdir -p ../floor-remote
  cp -a ../remote/app ../floor-remote/app
}
mkdir -p "$work/members/remote"
membership ../remote members "" copy_folder \
  "$floor" reencrypt "$identity" ../floor-remote/app ../floor-local

# The floor's project on the same server: the same environments pushed as project `floor`.
copy_served() {
  floor_remote=$url floor_project=floor
  mkdir -p ../floor-ws
  sed 's|projects.app|projects.floor|' envsync.toml > ../floor-ws/envsync.toml
  cp .env.e* ../floor-ws/
  (cd ../floor-ws && for e in $(seq -w 0 19); do "$bin" push --env "e$e" >/dev/null 2>&1; done)
}
mkdir -p "$work/members-served"
serve "$work/members-served"
membership "$url" members-served -server copy_served \
  "$floor" reencrypt-server "$identity" "${url#http://}" floor ../floor-local
kill "$server_pid"
server_pid=""

print_medians "$work/times" envsync-push floor-push envsync-push-server floor-put \
  envsync-sync floor-sync envsync-members-add envsync-members-remove floor-reencrypt \
  envsync-members-add-server envsync-members-remove-server floor-reencrypt-server
