#!/usr/bin/env bash
# Times `envsync run -- true` against `dotenvx run -- true` on the same generated files
# (20 and 1,000 variables), with hyperfine. dotenvx runs on encrypted files, its usual
# mode; envsync from the linked file and from a folder remote's head.
# Installs hyperfine (Debian) and @dotenvx/dotenvx (npm, into a temporary prefix).
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=bench-lib.sh
source scripts/bench-lib.sh
command -v hyperfine >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq hyperfine >/dev/null; }
cargo build --release --quiet --bin envsync
envsync_bin="$PWD/target/release/envsync"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
npm install --silent --prefix "$work/npm" @dotenvx/dotenvx >/dev/null
dotenvx="$work/npm/node_modules/.bin/dotenvx"
echo "dotenvx $("$dotenvx" --version)"

export HOME="$work/home" XDG_CONFIG_HOME="$work/home/.config" ENVSYNC_NAME=bench ENVSYNC_KEYCHAIN=off
mkdir -p "$HOME" "$work/remote" "$work/ws"
cd "$work/ws"
printf 'remote = "../remote"\n\n[projects.app.environments]\nvars20 = ".env.20"\nvars1000 = ".env.1000"\n' > envsync.toml
for count in 20 1000; do
  mkdir -p "$work/dotenvx-$count"
  variables "$count" > ".env.$count"
  cp ".env.$count" "$work/dotenvx-$count/.env"
  "$envsync_bin" push --env "vars$count" >/dev/null 2>&1
  (cd "$work/dotenvx-$count" && "$dotenvx" encrypt >/dev/null)
done

for count in 20 1000; do
  hyperfine --warmup 3 --min-runs 10 --style basic --export-markdown "$work/result-$count.md" \
    -n "envsync run, $count vars, linked file" "$envsync_bin run --env vars$count -- true" \
    -n "envsync run, $count vars, folder remote" "$envsync_bin run --remote --env vars$count -- true" \
    -n "dotenvx run, $count encrypted vars" "cd $work/dotenvx-$count && $dotenvx run -- true"
  cat "$work/result-$count.md"
done
