#!/usr/bin/env bash
# Runs envsync's whole test suite. Installs what the tests talk to when it is missing (the
# `age` CLI; git; D-Bus and gnome-keyring for the OS keychain test; the S3 server the bucket
# tests start: moto, from PyPI; PyNaCl for the GitHub contract test), so it works on a fresh
# Debian/Ubuntu machine.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
command -v age >/dev/null 2>&1 || need_apt+=(age)
command -v git >/dev/null 2>&1 || need_apt+=(git)
command -v openssl >/dev/null 2>&1 || need_apt+=(openssl)
command -v script >/dev/null 2>&1 || need_apt+=(bsdutils)
command -v dbus-run-session >/dev/null 2>&1 || need_apt+=(dbus-daemon dbus-bin)
command -v gnome-keyring-daemon >/dev/null 2>&1 || need_apt+=(gnome-keyring)
command -v python3 >/dev/null 2>&1 || need_apt+=(python3 python3-pip)
# The server tests make a PostgreSQL database per test with psql and search it with pg_dump.
command -v pg_dump >/dev/null 2>&1 || need_apt+=(postgresql-client)
# The server attack tests corrupt SQLite rows with the sqlite3 CLI.
command -v sqlite3 >/dev/null 2>&1 || need_apt+=(sqlite3)
# tests/faults.rs: a client clock a day off (libfaketime) and a server under a file-size
# limit (prlimit, util-linux).
command -v faketime >/dev/null 2>&1 || need_apt+=(faketime)
command -v prlimit >/dev/null 2>&1 || need_apt+=(util-linux)
# The git remote's smart-HTTP tests serve `git http-backend` through lighttpd with basic auth.
command -v lighttpd >/dev/null 2>&1 || [ -x /usr/sbin/lighttpd ] || need_apt+=(lighttpd)
# tests/publish_kubernetes.rs drives the real kubectl against a contract API server.
command -v kubectl >/dev/null 2>&1 || need_apt+=(kubernetes-client)
if ((${#need_apt[@]})); then
  echo "installing ${need_apt[*]} (Debian packages)" >&2
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

# The bucket tests (tests/s3.rs, tests/every_remote.rs) start moto's S3 server on a free
# loopback port themselves.
MOTO='moto[server]==5.2.1'
if ! python3 -c 'import moto.server, boto3, werkzeug' >/dev/null 2>&1; then
  echo "installing $MOTO (PyPI)" >&2
  python3 -m pip install --quiet --disable-pip-version-check "$MOTO" \
    || python3 -m pip install --quiet --disable-pip-version-check --break-system-packages "$MOTO"
fi

# tests/server_api.rs fuzzes the server's HTTP API with schemathesis against its own
# OpenAPI document.
SCHEMATHESIS='schemathesis==4.32.5'
if ! command -v schemathesis >/dev/null 2>&1 \
  || ! schemathesis --version 2>/dev/null | grep -q ' 4\.32\.5'; then
  echo "installing $SCHEMATHESIS (PyPI)" >&2
  python3 -m pip install --quiet --disable-pip-version-check "$SCHEMATHESIS" \
    || python3 -m pip install --quiet --disable-pip-version-check --break-system-packages \
      "$SCHEMATHESIS"
fi

# tests/publish_github.rs: the GitHub contract server opens every sealed box with libsodium
# through PyNaCl.
PYNACL='pynacl==1.6.2'
if ! python3 -c 'import nacl.public' >/dev/null 2>&1; then
  echo "installing $PYNACL (PyPI)" >&2
  python3 -m pip install --quiet --disable-pip-version-check "$PYNACL" \
    || python3 -m pip install --quiet --disable-pip-version-check --break-system-packages "$PYNACL"
fi

# tests/dotenvx.rs round-trips files through the real dotenvx CLI (npm).
DOTENVX='@dotenvx/dotenvx@2'
if ! command -v dotenvx >/dev/null 2>&1; then
  command -v npm >/dev/null 2>&1 || { SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo";
    $SUDO apt-get update -qq; DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq npm >/dev/null; }
  echo "installing $DOTENVX (npm)" >&2
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  $SUDO npm install --global --silent "$DOTENVX"
fi

# The server's tests need PostgreSQL on 127.0.0.1:5432, reachable as `postgres` without
# a password. Install it when missing, trust loopback connections, start the cluster when it
# is stopped; every step is skipped when it is already done.
if ! psql -h 127.0.0.1 -p 5432 -U postgres -w -Atqc 'SELECT 1' >/dev/null 2>&1; then
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  if ! ls /etc/postgresql/*/main/pg_hba.conf >/dev/null 2>&1; then
    echo "installing postgresql (Debian packages)" >&2
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq postgresql >/dev/null
  fi
  pg_version="$(ls /etc/postgresql | sort -V | tail -n 1)"
  pg_hba="/etc/postgresql/$pg_version/main/pg_hba.conf"
  if ! $SUDO grep -q '^host all all 127.0.0.1/32 trust' "$pg_hba"; then
    $SUDO sed -i '1i host all all 127.0.0.1/32 trust' "$pg_hba"
  fi
  if pg_isready -q -h 127.0.0.1 -p 5432; then
    $SUDO pg_ctlcluster --skip-systemctl-redirect "$pg_version" main reload
  else
    $SUDO pg_ctlcluster --skip-systemctl-redirect "$pg_version" main start
  fi
  for _ in $(seq 1 30); do
    pg_isready -q -h 127.0.0.1 -p 5432 && break
    sleep 1
  done
  psql -h 127.0.0.1 -p 5432 -U postgres -w -Atqc 'SELECT 1' >/dev/null
fi

# The web dashboard, built first so that the server binary the tests run embeds it.
dashboard/scripts/build.sh

cargo test --workspace --locked "$@"

# The web dashboard in headless chromium against a real server (screenshots in
# dashboard/test-output/).
ENVSYNC_BIN="${CARGO_TARGET_DIR:-$PWD/target}/debug/envsync" dashboard/scripts/test.sh

# The VS Code extension: unit tests, the end-to-end suite in a real code-server driven by
# headless chromium (installed when missing), and the .vsix package.
ENVSYNC_BIN="${CARGO_TARGET_DIR:-$PWD/target}/debug/envsync" editors/vscode/scripts/test.sh

# Bounded coverage-guided fuzzing of every target (nightly; installs cargo-fuzz when missing).
FUZZ_SECONDS="${FUZZ_SECONDS:-300}" scripts/fuzz.sh
