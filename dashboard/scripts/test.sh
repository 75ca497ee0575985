#!/usr/bin/env bash
# The dashboard's browser suite: headless Debian chromium (installed when missing) driven by
# playwright-core against a real `envsync server`, seeded by the real CLI. Screenshots of
# every page land in dashboard/test-output/.
#
#   dashboard/scripts/test.sh                 # builds the dashboard and envsync first
#   ENVSYNC_BIN=path/to/envsync ...           # test this binary (its build embeds dist/)
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$(cd .. && pwd)
if [ -z "${ENVSYNC_BIN:-}" ]; then
  scripts/build.sh
  (cd "$REPO" && cargo build -q -p envsync)
  ENVSYNC_BIN="${CARGO_TARGET_DIR:-$REPO/target}/debug/envsync"
fi
export ENVSYNC_BIN=$(realpath "$ENVSYNC_BIN")
[ -d node_modules/playwright-core ] || npm ci --no-audit --no-fund --loglevel=error
missing=()
command -v chromium >/dev/null || missing+=(chromium)
command -v sqlite3 >/dev/null || missing+=(sqlite3)
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi
export CHROMIUM=$(command -v chromium)
export OUT_DIR=$PWD/test-output
rm -rf "$OUT_DIR" && mkdir -p "$OUT_DIR"
node --test --test-concurrency=1 test/vectors.test.mjs test/verify.test.mjs test/dashboard.test.mjs \
  test/unlock.test.mjs test/integrity.test.mjs test/passkey.test.mjs test/invite.test.mjs \
  test/accept.test.mjs test/ci.test.mjs
