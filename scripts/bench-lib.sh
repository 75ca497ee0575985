# Shared by the benchmark scripts: the environments they push, a seeded project, a median
# printer. Sourced, not run.

# variables N: the benchmarks' environment of N variables (lines of about 50 bytes), on
# standard output.
variables() {
  awk -v n="$1" 'BEGIN { for (i = 0; i < n; i++)
    printf "SECRET_KEY_%d=value-%d-0123456789abcdef0123456789abcdef\n", i, i }'
}

# In the current directory, a workspace of project `app` on remote URL with 20 environments
# of 1,000 variables each, every one pushed by BINARY (whose identity is the current
# HOME's); then an identity for teammate carol under WORK/carol. Prints carol's member key.
# Usage: seed_twenty_environments BINARY URL WORK
seed_twenty_environments() {
  local bin=$1 url=$2 work=$3 e
  { printf 'remote = "%s"\n\n[projects.app.environments]\n' "$url"
    for e in $(seq -w 0 19); do printf 'e%s = ".env.e%s"\n' "$e" "$e"; done; } > envsync.toml
  variables 1000 > "$work/vars"
  for e in $(seq -w 0 19); do
    cp "$work/vars" ".env.e$e"
    "$bin" push --env "e$e" >/dev/null 2>&1
  done
  HOME="$work/carol" XDG_CONFIG_HOME="$work/carol/.config" "$bin" keygen --name carol \
    >/dev/null 2>&1
  HOME="$work/carol" XDG_CONFIG_HOME="$work/carol/.config" "$bin" whoami 2>/dev/null
}

# Each BINARY's median, minimum and maximum of the "BINARY MICROSECONDS" lines in TIMES.
# Usage: print_medians TIMES BINARY…
print_medians() {
  local times=$1 bin
  shift
  for bin in "$@"; do
    grep -F "$bin " "$times" | awk '{print $2}' | sort -n | awk -v c="$bin" '
      { t[NR] = $1 } END { printf "%s: median %.1f ms, min %.1f, max %.1f (%d runs)\n",
        c, t[int((NR + 1) / 2)] / 1000, t[1] / 1000, t[NR] / 1000, NR }'
  done
}

# BINARY's `envsync server` (SQLite, its data in DIR/server, its log DIR/server.log) on a
# free loopback port, once it listens. Sets server_pid and server_url.
# Usage: launch_server BINARY DIR
launch_server() {
  local bin=$1 dir=$2
  "$bin" server --listen 127.0.0.1:0 --data-dir "$dir/server" 2>"$dir/server.log" &
  server_pid=$!
  for _ in $(seq 1 100); do grep -q 'listening on' "$dir/server.log" 2>/dev/null && break
    sleep 0.1; done
  server_url=$(sed -n 's/.*listening on \([^ ]*\).*/\1/p' "$dir/server.log")
}

# Joins the server launched under DIR (launch_server) at URL, as the current HOME, its owner.
# Usage: join_as_owner BINARY DIR URL
join_as_owner() {
  "$1" join "$3" "$(sed -n 's/^owner setup code: //p' "$2/server.log")" >/dev/null 2>&1
}

# launch_server, then join_as_owner at the server's own URL. Usage: start_server BINARY DIR
start_server() {
  launch_server "$1" "$2"
  join_as_owner "$1" "$2" "$server_url"
}

# From the workspace in the current directory (its envsync.toml, `.env.*` files and the
# environments vars1000 and env00…env19), the same environments on BINARY's server
# (SQLite, under WORK, on a free loopback port) in a second workspace, WORK/ws-server,
# joined as the server's owner and every environment pushed. Sets server_pid and
# server_url. Usage: mirror_on_server BINARY WORK
mirror_on_server() {
  local bin=$1 work=$2 env
  start_server "$bin" "$work"
  mkdir -p "$work/ws-server"
  sed "s|^remote = .*|remote = \"$server_url\"|" envsync.toml > "$work/ws-server/envsync.toml"
  cp .env.* "$work/ws-server/"
  (cd "$work/ws-server" && for env in vars1000 $(seq -f 'env%02g' 0 19); do
    "$bin" push --env "$env" >/dev/null 2>&1; done)
}

# The start-up bench's workspaces in a new scratch directory, `work` (removed at exit, the
# server stopped), with a HOME of its own: work/ws on a folder remote (work/remote) with
# `vars1000` (1,000 variables) and env00…env19 (one variable each), all pushed by BINARY as
# NAME, a new identity; then the same on a server (mirror_on_server). Sets work, server_pid
# and server_url; leaves the current directory at work/ws.
# Usage: seed_startup_workspaces BINARY NAME
seed_startup_workspaces() {
  local bin=$1 name=$2 e env
  work=$(mktemp -d)
  server_pid=""
  trap '[[ -n $server_pid ]] && kill "$server_pid" 2>/dev/null; rm -rf "$work"' EXIT
  export HOME="$work/home" XDG_CONFIG_HOME="$work/home/.config" ENVSYNC_NAME=$name
  export ENVSYNC_KEYCHAIN=off
  mkdir -p "$HOME" "$work/remote" "$work/ws"
  cd "$work/ws"
  { printf 'remote = "../remote"\n\n[projects.app.environments]\nvars1000 = ".env.1000"\n'
    for ((e = 0; e < 20; e++)); do printf 'env%02d = ".env.e%02d"\n' "$e" "$e"; done
  } > envsync.toml
  variables 1000 > .env.1000
  for ((e = 0; e < 20; e++)); do printf 'KEY=env%02d\n' "$e" > "$(printf '.env.e%02d' "$e")"; done
  "$bin" keygen --name "$name" >/dev/null 2>&1 || true
  for env in vars1000 $(seq -f 'env%02g' 0 19); do "$bin" push --env "$env" >/dev/null 2>&1; done
  mirror_on_server "$bin" "$work"
}

# Runs "NAME COMMAND…" rows in turn, the first one first in even rounds and last in odd
# ones, appending "NAME MICROSECONDS" to $work/times; a row that fails ends the bench.
# Usage: timed_round ROUND ROW…
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
