#!/usr/bin/env bash
# Plays two teammates, Alice and Bob, keeping a .env in sync through an envsync server
# (embedded SQLite, started here on a free loopback port). Everything happens in a temporary
# directory; nothing outside it is touched.
set -euo pipefail
cd "$(dirname "$0")/.."
# The web dashboard, embedded in the binary by the build below (needs Node.js and npm).
dashboard/scripts/build.sh >/dev/null
cargo build --release --quiet --bin envsync
envsync_bin="$PWD/target/release/envsync"

demo=$(mktemp -d)
server_pid=""
cleanup() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
  rm -rf "$demo"
}
trap cleanup EXIT
mkdir -p "$demo/alice/app" "$demo/bob/app" "$demo/home-alice" "$demo/home-bob"

say() { printf '\n# %s\n' "$*"; }
# Each teammate has their own identity and token (HOME) and their own clone of the repository.
as() {
  local who=$1; shift
  printf '\n\033[1m%s$ envsync %s\033[0m\n' "$who" "$*" >&2
  (cd "$demo/$who/app" && HOME="$demo/home-$who" XDG_CONFIG_HOME="$demo/home-$who/.config" \
    ENVSYNC_NAME="$who" ENVSYNC_KEYCHAIN=off "$envsync_bin" "$@") || echo "(exit $?)" >&2
}

say "The team's server: one command, no configuration (SQLite in a data directory)"
printf '\033[1m$ envsync server --listen 127.0.0.1:0 --data-dir %s\033[0m\n' "$demo/server"
"$envsync_bin" server --listen 127.0.0.1:0 --data-dir "$demo/server" 2>"$demo/server.log" &
server_pid=$!
for _ in $(seq 1 100); do grep -q 'listening on' "$demo/server.log" 2>/dev/null && break; sleep 0.1; done
cat "$demo/server.log"
url=$(sed -n 's/.*listening on \([^ ]*\).*/\1/p' "$demo/server.log")
setup_code=$(sed -n 's/^owner setup code: //p' "$demo/server.log")

say "Alice becomes the server's owner, sets up the repository and publishes her .env"
as alice join "$url" "$setup_code"
printf '# database\nDATABASE_URL=postgres://localhost/app\nSTRIPE_KEY=sk_test_alice_123\n' > "$demo/alice/app/.env"
as alice init --remote "$url" --project app
as alice push -m "first version"

say "Alice invites Bob; Bob clones the repository (envsync.toml is committed) and joins"
invite_code=$(as alice invite --role writer --json | sed -n 's/.*"code": *"\([^"]*\)".*/\1/p')
cp "$demo/alice/app/envsync.toml" "$demo/bob/app/"
as bob join "$url" "$invite_code"

say "Alice sees Bob waiting and accepts him: the secrets are encrypted to his key"
as alice status
as alice members accept bob --role writer
as bob pull
cat "$demo/bob/app/.env"

say "Both edit different keys at once; Bob pushes first, Alice's push gets a conflict, sync merges"
printf '# database\nDATABASE_URL=postgres://db.internal/app\nSTRIPE_KEY=sk_test_alice_123\n' > "$demo/bob/app/.env"
as bob push -m "point at the internal database"
printf '# database\nDATABASE_URL=postgres://localhost/app\nSTRIPE_KEY=sk_test_alice_123\n\n# mail\nSMTP_PASSWORD=hunter2-smtp\n' > "$demo/alice/app/.env"
as alice push -m "add smtp"
as alice sync -m "add smtp"
cat "$demo/alice/app/.env"
as bob pull
as bob log
as alice audit

say "The server's database holds only ciphertext, key names and signed records:"
if grep -aq -e sk_test_alice_123 -e hunter2-smtp "$demo"/server/*; then
  echo "plaintext found in the server's database!" && exit 1
else
  echo "no secret value appears anywhere in $(ls "$demo"/server | wc -l) database files ($(du -sh "$demo/server" | cut -f1))"
fi
if command -v age >/dev/null && command -v curl >/dev/null; then
  say "…and each version is a plain age file: Bob downloads the newest and decrypts it with the age CLI"
  token=$(sed -n 's/^token = "\(.*\)"/\1/p' "$demo/home-bob/.config/envsync/credentials.toml")
  api="$url/api/v1/projects/app/environments/development"
  head=$(curl -fsS -H "Authorization: Bearer $token" "$api/head" | sed -n 's/.*"head":\([0-9]*\).*/\1/p')
  sha=$(curl -fsS -H "Authorization: Bearer $token" "$api/versions/$head" | sed -n 's/.*"ciphertext_sha256": *"\([0-9a-f]*\)".*/\1/p')
  curl -fsS -H "Authorization: Bearer $token" "$api/objects/$sha" \
    | age -d -i "$demo/home-bob/.config/envsync/identity.txt"
fi

say "The team's web dashboard: Alice opens it signed in (this prints the link: no browser here)"
as alice dashboard --no-open
echo "the dashboard is at $url/ (sign in there with a personal access token, or the link above)"
