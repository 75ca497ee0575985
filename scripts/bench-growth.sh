#!/usr/bin/env bash
# How each command's cost grows (issue 19, item 4), on a shared folder and on an envsync
# server (SQLite) on loopback (BENCH_REMOTES="folder server git" adds a git repository over
# git+file://, a bare one in the scratch directory), with the release binary:
#   history      status and a fresh pull after 10 … 10,000 versions (must stay flat)
#   variables    push, fresh pull and run with 10 … 100,000 variables (the server refuses a
#                body over 4 MiB: the error is recorded instead of a time)
#   members      push of 1,000 variables encrypted to 2 … 200 recipients
#   environments status on 1 … 100 environments
#   log          status and a fresh pull with 10 … 1,000 membership entries
# Each point is hyperfine's median of BENCH_RUNS runs (default 15; 5 above 10,000 variables).
# Adds its points to docs/bench/growth.csv (kept in the repository, so that a run of some
# curves redraws every plot; a point measured again replaces the earlier one), then
# scripts/plot-growth.py draws docs/bench/*.png from it.
# Usage: scripts/bench-growth.sh [ENVSYNC_BINARY]    (BENCH_QUICK=1: small sizes only)
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=bench-lib.sh
source scripts/bench-lib.sh
root=$PWD
if [[ $# -ge 1 ]]; then
  bin=$(realpath "$1")
else
  cargo build --release --quiet --bin envsync
  bin="$root/target/release/envsync"
fi
command -v hyperfine >/dev/null || { apt-get update -qq \
  && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq hyperfine >/dev/null; }
out="$root/target/growth"
mkdir -p "$out"
csv="$root/docs/bench/growth.csv"
# BENCH_CURVES picks curves (default all); BENCH_FRESH=1 starts the CSV over.
curves=(${BENCH_CURVES:-history variables members environments log})
[[ ${BENCH_FRESH:-0} != 1 && -f $csv ]] || echo "curve,remote,x,command,median_ms" > "$csv"
work=$(mktemp -d)
server_pid=""
cleanup() {
  [[ -n $server_pid ]] && kill "$server_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
export HOME="$work/home" XDG_CONFIG_HOME="$work/home/.config" ENVSYNC_NAME=bench
export ENVSYNC_KEYCHAIN=off
mkdir -p "$HOME"
"$bin" keygen --name bench >/dev/null 2>&1
runs=${BENCH_RUNS:-15}
if [[ ${BENCH_QUICK:-0} == 1 ]]; then
  history_sizes=(10 100); variable_sizes=(10 1000); member_sizes=(2 10)
  environment_sizes=(1 10); log_sizes=(10 50)
else
  history_sizes=(10 100 1000 10000); variable_sizes=(10 100 1000 10000 100000)
  member_sizes=(2 10 50 100 200); environment_sizes=(1 10 50 100); log_sizes=(10 100 1000)
fi

# measure CURVE REMOTE X NAME DIR [--prepare SCRIPT] -- COMMAND...: one median into the CSV.
measure() {
  local curve=$1 remote=$2 x=$3 name=$4 dir=$5; shift 5
  local prepare=() n=$runs
  if [[ $1 == --prepare ]]; then prepare=(--prepare "bash $2"); shift 2; fi
  shift # --
  ((x > 10000)) && n=5
  # A command that cannot run at this size (exec's limit on the environment, the server's
  # body limit) is recorded with its one-line error instead of a time.
  if ! (cd "$dir" && "$@" >/dev/null 2>"$work/err"); then
    echo "$curve,$remote,$x,$name refused: $(head -1 "$work/err" | tr , ';')" \
      >> "$out/refusals.txt"
    printf '%-13s %-7s %7s %-7s refused: %s\n' "$curve" "$remote" "$x" "$name" \
      "$(head -1 "$work/err")"
    return
  fi
  (cd "$dir" && hyperfine -N --warmup 1 --runs "$n" "${prepare[@]}" \
    --export-json "$work/h.json" "$(printf '%q ' "$@")" >/dev/null 2>&1)
  local ms
  ms=$(jq '.results[0].median * 1000 | . * 100 | round / 100' "$work/h.json")
  echo "$curve,$remote,$x,$name,$ms" >> "$csv"
  printf '%-13s %-7s %7s %-7s %9s ms\n' "$curve" "$remote" "$x" "$name" "$ms"
}

# A workspace DIR on REMOTE_URL with ENVS environments (each linked to .env.NAME).
workspace() {
  local dir=$1 url=$2; shift 2
  mkdir -p "$dir"
  { printf 'remote = "%s"\n\n[projects.%s.environments]\n' "$url" "$project"
    for name in "$@"; do printf '%s = ".env.%s"\n' "$name" "$name"; done; } > "$dir/envsync.toml"
}
# A prepare script that makes the next push a real new version.
bump_script() {
  printf 'sed -i "1s/.*/BUMP=$RANDOM$RANDOM/" %q\n' "$1" > "$work/bump.sh"
  echo "$work/bump.sh"
}
# A prepare script that forgets what a second workspace pulled, so each pull is a first one.
fresh_script() {
  printf 'rm -rf %q/.envsync %q/.env.%s\n' "$1" "$1" "$2" > "$work/fresh.sh"
  echo "$work/fresh.sh"
}

# status_and_pull CURVE REMOTE X A B: `status` in workspace A, a first `pull` of dev in B.
status_and_pull() {
  measure "$1" "$2" "$3" status "$4" -- "$bin" status
  measure "$1" "$2" "$3" pull "$5" --prepare "$(fresh_script "$5" dev)" -- "$bin" pull --env dev
}

history_curve() {
  local remote=$1 url=$2 a="$work/$1-history" b="$work/$1-history-pull" n=0
  project="history$RANDOM"
  workspace "$a" "$url" dev; workspace "$b" "$url" dev
  variables 100 > "$a/.env.dev"
  sed -i '1s/.*/BUMP=0/' "$a/.env.dev"
  for size in "${history_sizes[@]}"; do
    while ((n < size)); do
      sed -i "1s/.*/BUMP=$n/" "$a/.env.dev"
      (cd "$a" && "$bin" push --env dev -m "v$n" >/dev/null)
      n=$((n + 1))
    done
    status_and_pull history "$remote" "$size" "$a" "$b"
  done
}

variables_curve() {
  local remote=$1 url=$2 a="$work/$1-vars" b="$work/$1-vars-pull"
  project="vars$RANDOM"
  local names=()
  for size in "${variable_sizes[@]}"; do names+=("v$size"); done
  workspace "$a" "$url" "${names[@]}"; workspace "$b" "$url" "${names[@]}"
  for size in "${variable_sizes[@]}"; do
    variables "$size" > "$a/.env.v$size"
    if ! (cd "$a" && "$bin" push --env "v$size" >/dev/null 2>"$work/err"); then
      echo "variables,$remote,$size,refused: $(head -1 "$work/err" | tr , ';')" \
        >> "$out/refusals.txt"
      printf '%-13s %-7s %7s refused: %s\n' variables "$remote" "$size" "$(head -1 "$work/err")"
      continue
    fi
    measure variables "$remote" "$size" push "$a" --prepare "$(bump_script "$a/.env.v$size")" \
      -- "$bin" push --env "v$size"
    measure variables "$remote" "$size" pull "$b" --prepare "$(fresh_script "$b" "v$size")" \
      -- "$bin" pull --env "v$size"
    measure variables "$remote" "$size" run "$a" -- "$bin" run --env "v$size" -- /bin/true
  done
}

# Teammates' member keys, made once: keys N prints N of them.
keys() {
  local i
  for ((i = ${#member_keys[@]}; i < $1; i++)); do
    member_keys+=("$(HOME="$work/m$i" XDG_CONFIG_HOME="$work/m$i/.config" ENVSYNC_NAME="m$i" \
      sh -c "\"$bin\" keygen --name m$i >/dev/null 2>&1; \"$bin\" whoami")")
  done
}
member_keys=()

members_curve() {
  local remote=$1 url=$2 a="$work/$1-members" count=1
  project="members$RANDOM"
  workspace "$a" "$url" dev
  variables 1000 > "$a/.env.dev"
  (cd "$a" && "$bin" push --env dev >/dev/null)
  for size in "${member_sizes[@]}"; do
    keys "$((size - 1))"
    while ((count < size)); do
      (cd "$a" && "$bin" members add "${member_keys[$((count - 1))]}" --name "m$count" \
        --role reader &>/dev/null)
      count=$((count + 1))
    done
    measure members "$remote" "$size" push "$a" --prepare "$(bump_script "$a/.env.dev")" \
      -- "$bin" push --env dev
  done
}

environments_curve() {
  local remote=$1 url=$2 a="$work/$1-envs" made=0 names=() i
  project="envs$RANDOM"
  local largest=${environment_sizes[-1]}
  for ((i = 0; i < largest; i++)); do names+=("$(printf 'e%03d' "$i")"); done
  for size in "${environment_sizes[@]}"; do
    workspace "$a" "$url" "${names[@]:0:size}"
    while ((made < size)); do
      variables 20 > "$a/.env.${names[made]}"
      (cd "$a" && "$bin" push --env "${names[made]}" >/dev/null)
      made=$((made + 1))
    done
    measure environments "$remote" "$size" status "$a" -- "$bin" status
  done
}

log_curve() {
  local remote=$1 url=$2 a="$work/$1-log" b="$work/$1-log-pull" entries=1 i=0
  project="log$RANDOM"
  workspace "$a" "$url" dev; workspace "$b" "$url" dev
  variables 100 > "$a/.env.dev"
  (cd "$a" && "$bin" push --env dev >/dev/null)
  keys 1
  for size in "${log_sizes[@]}"; do
    # Each add and each remove is one signed membership entry.
    while ((entries + 2 <= size)); do
      (cd "$a" && "$bin" members add "${member_keys[0]}" --name "m$i" --role reader &>/dev/null \
        && "$bin" members remove "m$i" --yes &>/dev/null)
      entries=$((entries + 2)); i=$((i + 1))
    done
    status_and_pull log "$remote" "$size" "$a" "$b"
  done
}

start_server() {
  "$bin" server --listen 127.0.0.1:0 --data-dir "$work/server" 2>"$work/server.log" &
  server_pid=$!
  for _ in $(seq 1 100); do grep -q 'listening on' "$work/server.log" 2>/dev/null && break
    sleep 0.1; done
  server_url=$(sed -n 's/.*listening on \([^ ]*\).*/\1/p' "$work/server.log")
  local code
  code=$(sed -n 's/^owner setup code: //p' "$work/server.log")
  "$bin" join "$server_url" "$code" >/dev/null 2>&1
}

echo "binary: $bin; load average: $(cut -d' ' -f1-3 /proc/loadavg)" | tee "$out/machine.txt"
mkdir -p "$work/folder"
git init -q --bare "$work/remote.git"
[[ ${BENCH_FRESH:-0} != 1 ]] || : > "$out/refusals.txt"
remotes=(${BENCH_REMOTES:-folder server})
[[ " ${remotes[*]} " == *" server "* ]] && start_server
declare -A urls=([folder]="$work/folder" [git]="git+file://$work/remote.git")
for curve in "${curves[@]}"; do
  for remote in "${remotes[@]}"; do
    "${curve}_curve" "$remote" "${urls[$remote]:-$server_url}"
  done
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$out/machine.txt"
python3 -c 'import matplotlib' 2>/dev/null || python3 -m pip install -q matplotlib
python3 "$root/scripts/plot-growth.py" "$csv" "$root/docs/bench"
