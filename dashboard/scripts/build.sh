#!/usr/bin/env bash
# Builds the web dashboard into dashboard/dist, which `cargo build` then embeds in the
# server. Needs Node.js and npm (installed from Debian when missing). scripts/test.sh and
# scripts/demo.sh run this before building envsync.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v npm >/dev/null 2>&1; then
  echo "installing nodejs and npm (Debian packages)" >&2
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq nodejs npm >/dev/null
fi
npm ci --no-audit --no-fund --loglevel=error
npx tsc --noEmit -p .
npx prettier --check "src/**/*.{ts,css,html}" "test/*.mjs" "scripts/*.mjs"
node scripts/build.mjs
