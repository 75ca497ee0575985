#!/usr/bin/env bash
# Builds the VS Code extension, runs its unit tests and its end-to-end suite (a real
# code-server + headless chromium against a real envsync server), and packages the .vsix.
# Installs what it needs: npm packages (npm ci), Debian's chromium and ripgrep when missing,
# code-server cached in ~/.cache/envsync-vscode (ENVSYNC_VSCODE_CACHE) so reruns are fast.
#
#   editors/vscode/scripts/test.sh            # everything
#   ENVSYNC_BIN=path/to/envsync ...           # test this binary (default: cargo build's)
#   SKIP_E2E=1 ...                            # unit tests and packaging only
set -euo pipefail
cd "$(dirname "$0")/.."
EXT_DIR=$PWD
REPO=$(cd ../.. && pwd)
CACHE=${ENVSYNC_VSCODE_CACHE:-$HOME/.cache/envsync-vscode}

step() { printf '\n== %s\n' "$*"; }

if [ -z "${ENVSYNC_BIN:-}" ]; then
  step "cargo build -p envsync"
  (cd "$REPO" && cargo build -q -p envsync)
  ENVSYNC_BIN="${CARGO_TARGET_DIR:-$REPO/target}/debug/envsync"
fi
export ENVSYNC_BIN=$(realpath "$ENVSYNC_BIN")

step "npm ci"
npm ci --no-audit --no-fund --loglevel=error

step "typecheck, bundle, unit tests"
npx tsc --noEmit -p .
npx prettier --check "src/**/*.ts" "test/**/*.{ts,mjs}" "scripts/*.mjs"
node scripts/build.mjs --unit
node --test out/unit/

step "package"
node scripts/build.mjs --production
rm -f dist/extension.js.map
npm run --silent package
export VSIX=$EXT_DIR/dist/envsync.vsix

if [ -n "${SKIP_E2E:-}" ]; then
  echo "SKIP_E2E set: end-to-end suite not run"
  exit 0
fi

step "end-to-end: chromium, ripgrep, code-server"
missing=()
command -v chromium >/dev/null || missing+=(chromium)
command -v rg >/dev/null || missing+=(ripgrep)
if [ ${#missing[@]} -gt 0 ]; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
fi
scripts/setup-code-server.sh "$CACHE/code-server-4.100.3"
export CODE_SERVER=$CACHE/code-server-4.100.3/code-server/out/node/entry.js
export CHROMIUM=$(command -v chromium)
export OUT_DIR=$EXT_DIR/test-output/e2e
rm -rf "$OUT_DIR" && mkdir -p "$OUT_DIR"

step "end-to-end suite (screenshots in $OUT_DIR)"
node --test --test-concurrency=1 test/e2e/
