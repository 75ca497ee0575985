#!/usr/bin/env bash
# What a command's round trips to a server cost where the server is not on loopback: each
# ENVSYNC binary's `run --remote`, `pull` with nothing new, `status`, and `push` of one
# changed value, on one 1,000-variable environment of an `envsync server` (SQLite) reached
# through scripts/latency-proxy.py, BENCH_LATENCY_MS each way (default 10: a 20 ms round
# trip). The history is a few versions past the membership log's pin, as a project's is
# after some pushes. Every row runs once a round (BENCH_RUNS rounds, default 20), in an
# order that alternates; medians of each. The server is the first binary's.
# Usage: scripts/bench-round-trips.sh ENVSYNC_BINARY…
set -euo pipefail
[[ $# -ge 1 ]] || { echo "usage: $0 ENVSYNC_BINARY…" >&2; exit 2; }
scripts=$(dirname "$(realpath "$0")")
# shellcheck source=bench-lib.sh
source "$scripts/bench-lib.sh"
bins=()
for binary in "$@"; do bins+=("$(realpath "$binary")"); done
work=$(mktemp -d)
server_pid="" proxy_pid=""
trap 'kill $server_pid $proxy_pid 2>/dev/null; rm -rf "$work"' EXIT
export HOME="$work/home" XDG_CONFIG_HOME="$work/home/.config" ENVSYNC_KEYCHAIN=off
mkdir -p "$HOME" "$work/ws"
"${bins[0]}" keygen --name bench >/dev/null 2>&1

launch_server "${bins[0]}" "$work"
python3 "$scripts/latency-proxy.py" 0 "${server_url##*:}" "${BENCH_LATENCY_MS:-10}" \
  >"$work/proxy.out" &
proxy_pid=$!
for _ in $(seq 1 100); do grep -q '^ready' "$work/proxy.out" && break; sleep 0.1; done
url="http://127.0.0.1:$(sed -n 's/^ready //p' "$work/proxy.out")"
join_as_owner "${bins[0]}" "$work" "$url"

cd "$work/ws"
printf 'remote = "%s"\n\n[projects.app.environments]\ndevelopment = ".env"\n' "$url" \
  > envsync.toml
variables 1000 > .env
for version in 1 2 3 4; do
  sed -i "1s/.*/SECRET_KEY_0=version-$version/" .env
  "${bins[0]}" push >/dev/null 2>&1
done
# A push of one changed value: the change, then the push.
cat > "$work/push-one" <<'PUSH'
#!/usr/bin/env bash
sed -i "1s/.*/SECRET_KEY_0=$RANDOM$RANDOM/" .env && exec "$1" push
PUSH
chmod +x "$work/push-one"

for ((round = 0; round < ${BENCH_RUNS:-20}; round++)); do
  rows=()
  for bin in "${bins[@]}"; do
    tag=$(basename "$bin")
    rows+=("run[$tag] $bin run --remote -- /bin/true" "pull[$tag] $bin pull"
      "status[$tag] $bin status" "push[$tag] $work/push-one $bin")
  done
  timed_round "$round" "${rows[@]}"
done
echo "one-way latency ${BENCH_LATENCY_MS:-10} ms; server: ${bins[0]}"
for command in run pull status push; do
  names=()
  for bin in "${bins[@]}"; do names+=("$command[$(basename "$bin")]"); done
  print_medians "$work/times" "${names[@]}"
done
