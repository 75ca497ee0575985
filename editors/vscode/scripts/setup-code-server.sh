#!/usr/bin/env bash
# Installs code-server (VS Code for the web, a real Node extension host) for the end-to-end
# suite, from the npm registry only: its install scripts are skipped (they download from
# elsewhere) and its native modules are rebuilt against the system's Node headers.
# Usage: setup-code-server.sh DEST   (idempotent: a finished install is kept)
set -euo pipefail
DEST=${1:?usage: setup-code-server.sh DEST}
VER=${CS_VERSION:-4.100.3}
if [ -f "$DEST/code-server/.envsync-ok-$VER" ]; then exit 0; fi
command -v rg >/dev/null || { echo "ripgrep (rg) is needed: apt-get install -y ripgrep" >&2; exit 1; }
export npm_config_nodedir=/usr   # headers from /usr/include/node: node-gyp downloads nothing
rm -rf "$DEST/code-server" && mkdir -p "$DEST" && cd "$DEST"
timeout 300 npm pack "code-server@$VER" >/dev/null
tar xzf "code-server-$VER.tgz" && rm "code-server-$VER.tgz" && mv package code-server
cd code-server
timeout 300 npm install --omit=dev --ignore-scripts --no-audit --no-fund >/dev/null
timeout 300 npm rebuild argon2 >/dev/null
cd lib/vscode
timeout 300 npm install --omit=dev --ignore-scripts --no-audit --no-fund >/dev/null
# node-pty's post-install step fails on an npx call, but pty.node is built.
timeout 600 npm rebuild @vscode/spdlog native-watchdog @vscode/deviceid node-pty \
  >/dev/null 2>&1 || true
for f in node_modules/@vscode/spdlog/build/Release/spdlog.node \
  node_modules/native-watchdog/build/Release/watchdog.node \
  node_modules/node-pty/build/Release/pty.node; do
  test -f "$f" || { echo "missing $f" >&2; exit 1; }
done
mkdir -p node_modules/@vscode/ripgrep/bin && cp "$(command -v rg)" node_modules/@vscode/ripgrep/bin/rg
ln -sfn node_modules node_modules.asar
ln -sf code-linux.sh bin/remote-cli/code-server
ln -sf browser-linux.sh bin/helpers/browser.sh
cd extensions
timeout 300 npm install --omit=dev --ignore-scripts --no-audit --no-fund >/dev/null
node postinstall.mjs >/dev/null
XDG_CONFIG_HOME="$DEST" node "$DEST/code-server/out/node/entry.js" --version
touch "$DEST/code-server/.envsync-ok-$VER"
