#!/usr/bin/env bash
# Runs envsync's whole test suite. Installs what the tests talk to when it is missing (the
# `age` CLI; git; D-Bus and gnome-keyring for the OS keychain test; the S3 server the bucket
# tests start: moto, from PyPI), so it works on a fresh Debian/Ubuntu machine.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
command -v age >/dev/null 2>&1 || need_apt+=(age)
command -v git >/dev/null 2>&1 || need_apt+=(git)
command -v script >/dev/null 2>&1 || need_apt+=(bsdutils)
command -v dbus-run-session >/dev/null 2>&1 || need_apt+=(dbus-daemon dbus-bin)
command -v gnome-keyring-daemon >/dev/null 2>&1 || need_apt+=(gnome-keyring)
command -v python3 >/dev/null 2>&1 || need_apt+=(python3 python3-pip)
if ((${#need_apt[@]})); then
  echo "installing ${need_apt[*]} (Debian packages)" >&2
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

# crates/envsync/tests/s3.rs starts moto's S3 server on a free loopback port by itself.
MOTO='moto[server]==5.2.1'
if ! python3 -c 'import moto.server, boto3, werkzeug' >/dev/null 2>&1; then
  echo "installing $MOTO (PyPI)" >&2
  python3 -m pip install --quiet --disable-pip-version-check "$MOTO" \
    || python3 -m pip install --quiet --disable-pip-version-check --break-system-packages "$MOTO"
fi

cargo test --workspace --locked "$@"
